<#
.SYNOPSIS
    mergekit's linear as a ChatVector pipeline, on the tiny models in examples/tiny.
.DESCRIPTION
    A weighted average of the models: base + Σ w (model − base) / Σ w, which equals Σ w model / Σ w.
    The mergekit configuration it stands for:
        merge_method: linear
        models:
          - model: chat
            parameters: { weight: 0.6 }
          - model: cp
            parameters: { weight: 0.4 }
    Run: dotnet pwsh -NoProfile -File examples/merge-methods/linear.ps1 [-Output <folder>] [-NoBuild]
#>
param(
    [string] $Output = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'chatvector-merge-methods', 'linear'),
    [switch] $NoBuild
)
. ([System.IO.Path]::Combine($PSScriptRoot, 'Start-Example.ps1'))

Get-ExampleVectors -ChatWeight 0.6 -CpWeight 0.4 |
    Add-ChatVector -Model $base -Normalize |
    Export-SafeTensor $Output -Force -PassThru
