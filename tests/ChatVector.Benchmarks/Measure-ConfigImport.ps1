<#
.SYNOPSIS
    Import-MergeConfig's own cost as a user meets it: a pwsh process that imports the module, loads libtorch, then
    imports one config (no tensor read or written) several times.
.DESCRIPTION
    Started by the benchmark's config-bench --pwsh (`dotnet pwsh -NoProfile -NonInteractive -File` from the repository
    root). The last line is "first-seconds later-median-seconds": the first Import-MergeConfig of the process, then the
    median of -Repeats more, each collecting every handle it emits.
#>
param(
    [Parameter(Mandatory)] [string] $Config,
    [int] $Repeats = 5
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path (Split-Path -Parent (Split-Path -Parent $PSScriptRoot)) 'ChatVector.psd1')
$null = Get-ChatVectorRuntime

$first = (Measure-Command { $null = Import-MergeConfig $Config }).TotalSeconds
$later = @(1..$Repeats | ForEach-Object { (Measure-Command { $null = Import-MergeConfig $Config }).TotalSeconds } | Sort-Object)
[string]::Format([cultureinfo]::InvariantCulture, '{0:F3} {1:F3}', $first, $later[[int][Math]::Floor($later.Count / 2)])
