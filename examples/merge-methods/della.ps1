<#
.SYNOPSIS
    mergekit's della as a ChatVector pipeline, on the tiny models in examples/tiny.
.DESCRIPTION
    Keeps each element with a probability that grows with its magnitude rank in its row (density ± epsilon), rescales by 1 / p, then TIES' sign election and normalization.
    The mergekit configuration it stands for:
        merge_method: della
        base_model: base
        models:
          - model: chat
            parameters: { weight: 1.0, density: 0.5, epsilon: 0.15 }
          - model: cp
            parameters: { weight: 1.0, density: 0.5, epsilon: 0.15 }
    Run: dotnet pwsh -NoProfile -File examples/merge-methods/della.ps1 [-Output <folder>] [-NoBuild]
#>
param(
    [string] $Output = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'chatvector-merge-methods', 'della'),
    [switch] $NoBuild
)
. ([System.IO.Path]::Combine($PSScriptRoot, 'Start-Example.ps1'))

Get-ExampleVectors |
    Limit-ChatVector -Density 0.5 -Method Della -Epsilon 0.15 -Seed 42 |
    Add-ChatVector -Model $base -Consensus Sum -Normalize |
    Export-SafeTensor $Output -Force -PassThru
