<#
.SYNOPSIS
    One benchmark merge as a user runs it: a pwsh process that imports the module, loads libtorch and runs one pipeline.
.DESCRIPTION
    Started by the benchmark's --pwsh mode (`dotnet pwsh -NoProfile -NonInteractive -File` from the repository root),
    once per run. -Method StartUp stops after the import and libtorch's load (Get-ChatVectorRuntime): the start-up
    every run pays, measured in a process of its own. Otherwise the last line is "wall-seconds cpu-seconds peakRssMb"
    of the pipeline alone (CPU: user + system of this process, from before the pipeline to its end).
#>
param(
    [Parameter(Mandatory)] [ValidateSet('StartUp', 'add', 'lora', 'ties', 'dare-ties', 'breadcrumbs-ties', 'della-ties',
        'slerp', 'nuslerp', 'multislerp', 'karcher', 'model_stock', 'nearswap', 'arcee_fusion', 'sce', 'ram')] [string] $Method,
    [string] $Dir
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path (Split-Path -Parent (Split-Path -Parent $PSScriptRoot)) 'ChatVector.psd1')
$null = Get-ChatVectorRuntime
if ($Method -eq 'StartUp') { return }

$base = Join-Path $Dir 'base'
$chat = Join-Path $Dir 'chat'
$cp = Join-Path $Dir 'cp'
$output = Join-Path $Dir 'merged-pwsh'
$process = [System.Diagnostics.Process]::GetCurrentProcess()
$cpuBefore = $process.TotalProcessorTime
$clock = [System.Diagnostics.Stopwatch]::StartNew()
# The pipelines of MergeMethods.cs (docs/performance.md, the benchmark), vectors in the same order: chat, then cp.
# The trims of the TIES family, each as Limit-ChatVector's arguments (MergeMethods.cs builds the same in process).
$trims = @{
    'ties'             = @{ Method = 'Magnitude' }
    'dare-ties'        = @{ Method = 'Random'; Seed = 42 }
    'breadcrumbs-ties' = @{ Method = 'Breadcrumbs' }
    'della-ties'       = @{ Method = 'Della'; Seed = 42 }
}
$config = Join-Path $Dir "$Method.yml" # written by the benchmark (MergeMethods.cs) for the methods run from a config
if (Test-Path -LiteralPath $config) {
    Import-MergeConfig $config | Export-SafeTensor $output -MaxShardSize 500MB -Force
}
elseif ($Method -eq 'add') {
    Get-ChatVector -Base $base -Chat $chat | Add-ChatVector -Model $cp | Export-SafeTensor $output -MaxShardSize 500MB -Force
}
elseif ($Method -eq 'lora') {
    # The adapter the benchmark wrote beside the trio before the first run (LoraBenchAdapter.cs).
    Get-LoraVector (Join-Path $Dir 'adapter') -Base $base | Add-ChatVector -Model $cp | Export-SafeTensor $output -MaxShardSize 500MB -Force
}
else {
    $trim = $trims[$Method]
    & { Get-ChatVector -Base $base -Chat $chat; Get-ChatVector -Base $base -Chat $cp } |
        Limit-ChatVector -Density 0.3 @trim |
        Add-ChatVector -Model $base -Consensus Sum -Normalize | Export-SafeTensor $output -MaxShardSize 500MB -Force
}
$wall = $clock.Elapsed.TotalSeconds
$process.Refresh()
$cpu = ($process.TotalProcessorTime - $cpuBefore).TotalSeconds
$peakKb = [double]((Get-Content /proc/self/status | Where-Object { $_ -like 'VmHWM:*' }) -split '\s+')[1]
[string]::Format([cultureinfo]::InvariantCulture, '{0:F3} {1:F3} {2:F1}', $wall, $cpu, $peakKb / 1024)
