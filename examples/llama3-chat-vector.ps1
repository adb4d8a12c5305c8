<#
.SYNOPSIS
    The Chat Vector recipe on real models: Llama-3-8B + Llama-3-8B-Instruct + a model continually
    pre-trained (CP) from Llama-3-8B on a new language.

.DESCRIPTION
    Download the three models as Hugging Face folders of safetensors first (for example with
    `huggingface-cli download meta-llama/Meta-Llama-3-8B --local-dir ./Meta-Llama-3-8B`).
    Nothing here loads a whole model: tensors are streamed one chunk at a time, so this runs on a
    server with far less memory than the 16 GB each model takes.

    What it does, following Huang et al. (ACL 2024):
      1. saves the chat vector (Instruct - base) once, with its provenance, so later merges reuse it;
      2. adds it to the CP model with ratio 0.5 (the paper finds lower ratios keep answers in the
         new language), skipping nothing: an extended CP vocabulary keeps its new rows;
      3. optionally adds a second vector (e.g. from a chat model fine-tuned for another skill), each
         with its own ratio;
      4. copies the trained rows of the chat-template tokens (<|eot_id|>, <|start_header_id|>,
         <|end_header_id|>) from the Instruct model, since CP may have left them untrained;
      5. writes a loadable folder: shards, index, config, tokenizer with the Instruct chat template
         and eos token, a model card with the recipe; then validates it, data and checksums included.
#>
param(
    [string] $Base = './Meta-Llama-3-8B',
    [string] $Chat = './Meta-Llama-3-8B-Instruct',
    [string] $ContinuedPretraining = './Llama-3-8B-CP-zh',
    [string] $VectorPath = './llama3-8b-chat-vector',
    [string] $SecondVector,                 # optional: a saved vector of another chat model
    [double] $Ratio = 0.5,
    [double] $SecondRatio = 0.5,
    [string] $Output = './Llama-3-8B-CP-zh-chat',
    [string] $Device = 'cpu'                # 'cuda' or 'cuda:1' where libtorch-cuda is installed
)
$ErrorActionPreference = 'Stop'

# 1. The chat vector, saved once (float32, bit-exact to what the live pipeline computes).
if (-not [System.IO.Directory]::Exists($VectorPath)) {
    Get-ChatVector -Base $Base -Chat $Chat -Verbose |
        Export-SafeTensor $VectorPath -MaxShardSize 5GB -Checksum -Device $Device
}

# How large is it, layer by layer, relative to the base weights?
Get-SafeTensor $VectorPath | Measure-ChatVector -Summary -Device $Device

# 2-4. Vectors with their own ratios, special tokens from the chat model.
$vectors = @(
    Get-SafeTensor $VectorPath | ForEach-Object { $_.Ratio = $Ratio; $_ }
    if ($SecondVector) { Get-SafeTensor $SecondVector | ForEach-Object { $_.Ratio = $SecondRatio; $_ } }
)
$chatTemplateTokens = @{ 128009 = 128009; 128006 = 128006; 128007 = 128007 }   # CP id = Instruct id

# 5. Merge and write, all or nothing.
$vectors |
    Add-ChatVector -Model $ContinuedPretraining -SpecialTokenMap $chatTemplateTokens -ChatModel $Chat -Verbose |
    Export-SafeTensor $Output -MaxShardSize 5GB -Device $Device -Verify

Test-SafeTensor $Output -Data
