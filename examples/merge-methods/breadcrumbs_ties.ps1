<#
.SYNOPSIS
    mergekit's breadcrumbs_ties as a ChatVector pipeline, on the tiny models in examples/tiny.
.DESCRIPTION
    Breadcrumbs' trim, then TIES' sign election (no normalization: mergekit's default).
    The mergekit configuration it stands for:
        merge_method: breadcrumbs_ties
        base_model: base
        models:
          - model: chat
            parameters: { weight: 1.0, density: 0.9, gamma: 0.01 }
          - model: cp
            parameters: { weight: 1.0, density: 0.9, gamma: 0.01 }
    Run: dotnet pwsh -NoProfile -File examples/merge-methods/breadcrumbs_ties.ps1 [-Output <folder>] [-NoBuild]
#>
param(
    [string] $Output = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'chatvector-merge-methods', 'breadcrumbs_ties'),
    [switch] $NoBuild
)
. ([System.IO.Path]::Combine($PSScriptRoot, 'Start-Example.ps1'))

Get-ExampleVectors |
    Limit-ChatVector -Density 0.9 -Method Breadcrumbs -Gamma 0.01 |
    Add-ChatVector -Model $base -Consensus Sum |
    Export-SafeTensor $Output -Force -PassThru
