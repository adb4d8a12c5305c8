<#
.SYNOPSIS
    Shared start of the merge-method examples (dot-sourced, not an example itself): builds the module unless
    -NoBuild, imports it from the repository, and names the tiny models in examples/tiny.
.DESCRIPTION
    Every example merges two vectors onto the base model, as in "the cp delta and the chat delta onto the
    original base": $chat (chat - base) and $cp (cp - base). cp's extended vocabulary rows have no base
    rows, so the cp vector leaves out the embedding and LM head (-SkipMismatched; the model card lists them).
#>
. (Join-Path (Split-Path -Parent $PSScriptRoot) 'Import-Example.ps1')

# The two vectors, with mergekit's "weight" as the ratio. The chat vector comes last: the output takes the
# chat template and eos token from the last vector's chat model.
function Get-ExampleVectors([double] $ChatWeight = 1.0, [double] $CpWeight = 1.0) {
    Get-ChatVector -Base $base -Chat $cpModel -Ratio $CpWeight -SkipMismatched
    Get-ChatVector -Base $base -Chat $chatModel -Ratio $ChatWeight
}
