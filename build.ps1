#Requires -Version 7.4
<#
.SYNOPSIS
    Builds ChatVector, lays out the importable module, and optionally publishes and tests it.

.DESCRIPTION
    dotnet build lays the module out under module/bin (see build/ModuleLayout.targets); after that
    'Import-Module ./ChatVector.psd1' works from the repository root.

    -Publish assembles out/ChatVector/ (manifest, format file, module/bin) with the natives of
    every platform in -Rids, ready to copy into a folder on $env:PSModulePath. The layout inside
    is the repository's, so the manifest needs no changes.

    -Test runs 'dotnet test' on the solution and then, when Pester 5 is installed, the Pester
    suites in tests/ in a child pwsh (so the loaded DLLs do not lock the next build).

.EXAMPLE
    ./build.ps1                      # build (Debug) and lay out module/bin
.EXAMPLE
    ./build.ps1 -Configuration Release -Publish -Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Debug',

    [switch] $Publish,

    [switch] $Test,

    # Platforms whose libtorch natives -Publish ships (each adds hundreds of MB).
    [ValidateSet('linux-x64', 'win-x64', 'osx-arm64')]
    [string[]] $Rids = @('linux-x64', 'win-x64')
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

function Invoke-Dotnet {
    param([Parameter(ValueFromRemainingArguments)] [string[]] $Arguments)
    Write-Host "> dotnet $($Arguments -join ' ')" -ForegroundColor Cyan
    & dotnet @Arguments
    if ($LASTEXITCODE -ne 0) { throw "dotnet $($Arguments[0]) failed with exit code $LASTEXITCODE." }
}

Push-Location $PSScriptRoot
try {
    $buildArgs = @('build', 'src/ChatVector.PowerShell/ChatVector.PowerShell.csproj', '-c', $Configuration)
    if ($Publish) {
        # %3B is MSBuild's escape for ';' (a bare ';' would separate properties on the command line).
        $buildArgs += "-p:ModuleRids=$($Rids -join '%3B')"
    }
    Invoke-Dotnet @buildArgs
    # The host is handy beside the module (src/ChatVector.Host/bin/<Configuration>/net10.0/cvhost.dll).
    Invoke-Dotnet build src/ChatVector.Host/ChatVector.Host.csproj -c $Configuration

    if ($Publish) {
        $out = Join-Path $PSScriptRoot 'out/ChatVector'
        if (Test-Path $out) { Remove-Item $out -Recurse -Force }
        $null = New-Item -ItemType Directory -Path (Join-Path $out 'module') -Force
        Copy-Item ChatVector.psd1 -Destination $out
        Copy-Item module/ChatVector.format.ps1xml -Destination (Join-Path $out 'module')
        Copy-Item module/bin -Destination (Join-Path $out 'module') -Recurse
        if (Test-Path module/en-US) { Copy-Item module/en-US -Destination (Join-Path $out 'module') -Recurse }
        # Get-Help reads a binary module's help from <ModuleBase>/<culture>, beside the manifest.
        if (Test-Path module/en-US) { Copy-Item module/en-US -Destination $out -Recurse }
        Write-Host "Published to $out (natives: $($Rids -join ', '))." -ForegroundColor Green
    }

    if ($Test) {
        # The whole solution is built first so no test starts while the module layout is still being copied.
        Invoke-Dotnet build ChatVector.PowerShell.sln -c $Configuration
        Invoke-Dotnet test ChatVector.PowerShell.sln -c $Configuration --no-build

        $pester = Get-Module -ListAvailable -Name Pester | Where-Object { $_.Version.Major -ge 5 } | Select-Object -First 1
        if ($pester) {
            $pwsh = (Get-Process -Id $PID).Path
            $command = "Import-Module Pester -MinimumVersion 5.0; `$r = Invoke-Pester -Path '$PSScriptRoot/tests' -Output Detailed -PassThru; exit `$r.FailedCount"
            & $pwsh -NoProfile -Command $command
            if ($LASTEXITCODE -ne 0) { throw "Pester: $LASTEXITCODE test(s) failed." }
        }
        else {
            Write-Warning 'Pester 5 not installed; skipping tests/*.Tests.ps1 (Install-Module Pester -MinimumVersion 5.0).'
        }
    }
}
finally {
    Pop-Location
}
