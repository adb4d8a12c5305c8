<#
.SYNOPSIS
    mergekit's breadcrumbs as a ChatVector pipeline, on the tiny models in examples/tiny.
.DESCRIPTION
    Drops the largest-magnitude 1% (gamma) and the smallest elements, keeping density × n in between; a plain sum.
    The mergekit configuration it stands for:
        merge_method: breadcrumbs
        base_model: base
        models:
          - model: chat
            parameters: { weight: 1.0, density: 0.9, gamma: 0.01 }
          - model: cp
            parameters: { weight: 1.0, density: 0.9, gamma: 0.01 }
    Run: dotnet pwsh -NoProfile -File examples/merge-methods/breadcrumbs.ps1 [-Output <folder>] [-NoBuild]
#>
param(
    [string] $Output = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'chatvector-merge-methods', 'breadcrumbs'),
    [switch] $NoBuild
)
. ([System.IO.Path]::Combine($PSScriptRoot, 'Start-Example.ps1'))

Get-ExampleVectors |
    Limit-ChatVector -Density 0.9 -Method Breadcrumbs -Gamma 0.01 |
    Add-ChatVector -Model $base |
    Export-SafeTensor $Output -Force -PassThru
