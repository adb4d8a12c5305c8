<#
.SYNOPSIS
    mergekit's della_linear as a ChatVector pipeline, on the tiny models in examples/tiny.
.DESCRIPTION
    DELLA's rank-based drop and rescale, then a plain sum.
    The mergekit configuration it stands for:
        merge_method: della_linear
        base_model: base
        models:
          - model: chat
            parameters: { weight: 1.0, density: 0.5, epsilon: 0.15 }
          - model: cp
            parameters: { weight: 1.0, density: 0.5, epsilon: 0.15 }
    Run: dotnet pwsh -NoProfile -File examples/merge-methods/della_linear.ps1 [-Output <folder>] [-NoBuild]
#>
param(
    [string] $Output = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'chatvector-merge-methods', 'della_linear'),
    [switch] $NoBuild
)
. ([System.IO.Path]::Combine($PSScriptRoot, 'Start-Example.ps1'))

Get-ExampleVectors |
    Limit-ChatVector -Density 0.5 -Method Della -Epsilon 0.15 -Seed 42 |
    Add-ChatVector -Model $base |
    Export-SafeTensor $Output -Force -PassThru
