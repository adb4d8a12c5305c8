<#
.SYNOPSIS
    The Chat Vector recipe end to end on the tiny models in examples/tiny.
.DESCRIPTION
    From a fresh clone (the .NET SDK is all it needs):
        dotnet tool restore && dotnet pwsh -NoProfile -File examples/quickstart.ps1
    Builds the module first (incremental; -NoBuild skips it), imports it from the repository, then
    runs the recipe step by step.
#>
param(
    [string] $Output = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'chatvector-quickstart', 'tiny-cp-chat'),
    [switch] $NoBuild
)
. (Join-Path $PSScriptRoot 'Import-Example.ps1')
$chat, $cp = $chatModel, $cpModel

'== The continually pre-trained model (first tensors)'
Get-SafeTensor $cp -Name 'model.embed_tokens.weight', 'model.layers.0.self_attn.*' | Out-Default

'== Are the three inputs valid safetensors folders?'
Test-SafeTensor $base, $chat, $cp | Out-Default

'== The chat vector (chat - base), layer by layer, relative to the base weights'
Get-ChatVector -Base $base -Chat $chat | Measure-ChatVector -Summary | Out-Default

'== Merge: cp + 0.5 * (chat - base); the chat template tokens take the chat model''s rows'
# Token 70 exists only in cp's extended vocabulary; here it stands for a chat-template token
# (like <|eot_id|>) that continued pre-training left untrained, and gets chat's row 60.
Get-ChatVector -Base $base -Chat $chat |
    Add-ChatVector -Model $cp -Ratio 0.5 -SpecialTokenMap @{ 70 = 60 } |
    Export-SafeTensor $Output -MaxShardSize 40KB -Force -Verify -PassThru |
    ForEach-Object { "Wrote $($_.FullName): $([System.IO.Directory]::GetFiles($_.FullName).Count) files" }

'== The result, read back: valid, data checked against the checksums recorded while writing'
Test-SafeTensor $Output -Data | Out-Default
'== Its chat template, from the chat model'
$tokenizer = [System.Text.Json.JsonDocument]::Parse([System.IO.File]::ReadAllText([System.IO.Path]::Combine($Output, 'tokenizer_config.json')))
$tokenizer.RootElement.GetProperty('chat_template').GetString()
'== A merged tensor, previewed'
Get-SafeTensor $Output -Name 'model.norm.weight' | Show-SafeTensor -Count 6
