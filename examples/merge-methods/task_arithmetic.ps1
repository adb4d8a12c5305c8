<#
.SYNOPSIS
    mergekit's task_arithmetic as a ChatVector pipeline, on the tiny models in examples/tiny.
.DESCRIPTION
    Adds both vectors to the base: base + Σ weight × (model − base). The plain Chat Vector merge.
    The mergekit configuration it stands for:
        merge_method: task_arithmetic
        base_model: base
        models:
          - model: chat
            parameters: { weight: 1.0 }
          - model: cp
            parameters: { weight: 1.0 }
    Run: dotnet pwsh -NoProfile -File examples/merge-methods/task_arithmetic.ps1 [-Output <folder>] [-NoBuild]
#>
param(
    [string] $Output = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'chatvector-merge-methods', 'task_arithmetic'),
    [switch] $NoBuild
)
. ([System.IO.Path]::Combine($PSScriptRoot, 'Start-Example.ps1'))

Get-ExampleVectors |
    Add-ChatVector -Model $base |
    Export-SafeTensor $Output -Force -PassThru
