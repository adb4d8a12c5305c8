<#
.SYNOPSIS
    mergekit's ties as a ChatVector pipeline, on the tiny models in examples/tiny.
.DESCRIPTION
    Trims each vector to its largest-magnitude half, elects a sign per element by the sum, keeps the agreeing contributions and averages them by their weights.
    The mergekit configuration it stands for:
        merge_method: ties
        base_model: base
        models:
          - model: chat
            parameters: { weight: 1.0, density: 0.5 }
          - model: cp
            parameters: { weight: 1.0, density: 0.5 }
        parameters: { normalize: true }
    Run: dotnet pwsh -NoProfile -File examples/merge-methods/ties.ps1 [-Output <folder>] [-NoBuild]
#>
param(
    [string] $Output = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'chatvector-merge-methods', 'ties'),
    [switch] $NoBuild
)
. ([System.IO.Path]::Combine($PSScriptRoot, 'Start-Example.ps1'))

Get-ExampleVectors |
    Limit-ChatVector -Density 0.5 -Method Magnitude |
    Add-ChatVector -Model $base -Consensus Sum -Normalize |
    Export-SafeTensor $Output -Force -PassThru
