<#
.SYNOPSIS
    mergekit's dare_linear as a ChatVector pipeline, on the tiny models in examples/tiny.
.DESCRIPTION
    DARE's random drop and rescale, then a plain sum.
    The mergekit configuration it stands for:
        merge_method: dare_linear
        base_model: base
        models:
          - model: chat
            parameters: { weight: 1.0, density: 0.5 }
          - model: cp
            parameters: { weight: 1.0, density: 0.5 }
    Run: dotnet pwsh -NoProfile -File examples/merge-methods/dare_linear.ps1 [-Output <folder>] [-NoBuild]
#>
param(
    [string] $Output = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'chatvector-merge-methods', 'dare_linear'),
    [switch] $NoBuild
)
. ([System.IO.Path]::Combine($PSScriptRoot, 'Start-Example.ps1'))

Get-ExampleVectors |
    Limit-ChatVector -Density 0.5 -Method Random -Seed 42 |
    Add-ChatVector -Model $base |
    Export-SafeTensor $Output -Force -PassThru
