<#
.SYNOPSIS
    mergekit's dare_ties as a ChatVector pipeline, on the tiny models in examples/tiny.
.DESCRIPTION
    Drops each element with probability 1 − density (seeded), rescales the survivors by 1 / density, then TIES' sign election (no normalization: mergekit's default).
    The mergekit configuration it stands for:
        merge_method: dare_ties
        base_model: base
        models:
          - model: chat
            parameters: { weight: 1.0, density: 0.5 }
          - model: cp
            parameters: { weight: 1.0, density: 0.5 }
    Run: dotnet pwsh -NoProfile -File examples/merge-methods/dare_ties.ps1 [-Output <folder>] [-NoBuild]
#>
param(
    [string] $Output = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'chatvector-merge-methods', 'dare_ties'),
    [switch] $NoBuild
)
. ([System.IO.Path]::Combine($PSScriptRoot, 'Start-Example.ps1'))

Get-ExampleVectors |
    Limit-ChatVector -Density 0.5 -Method Random -Seed 42 |
    Add-ChatVector -Model $base -Consensus Sum |
    Export-SafeTensor $Output -Force -PassThru
