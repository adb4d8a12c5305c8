#Requires -Version 7.4
<#
.SYNOPSIS
    Builds ChatVector, lays out the importable module, and optionally tests and publishes it.

.DESCRIPTION
    dotnet build lays the module out under module/bin (see build/ModuleLayout.targets); after that
    'Import-Module ./ChatVector.psd1' works from the repository root.

    -Test runs the xunit suites (dotnet test) and then the Pester suite (tests/Pester) in a child pwsh,
    so the loaded DLLs do not lock the next build. Pester is restored from NuGet (build/TestTools) into
    artifacts/packages; nothing comes from PSGallery. The script fails when either suite fails.

    -Publish assembles out/ChatVector/ (manifest, format file, help, module/bin) with the natives of
    every platform in -Rids, and packs it as out/ChatVector.<version>.nupkg for a local
    PSResource repository (Register-PSResourceRepository -Uri <folder>; Install-PSResource ChatVector).

    Works under an installed pwsh and under the dotnet tool (dotnet tool restore; dotnet pwsh ./build.ps1).

.EXAMPLE
    ./build.ps1                                   # build (Debug) and lay out module/bin
.EXAMPLE
    dotnet tool restore; dotnet pwsh -NoProfile -File ./build.ps1 -Configuration Release -Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Debug',

    [switch] $Publish,

    [switch] $Test,

    # Passed to Invoke-Pester as its Filter.Tag (for a quick run of one area).
    [string[]] $PesterTag,

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

# The command line that starts another pwsh like this one. Under the dotnet tool the process is
# 'dotnet' (running $PSHOME/pwsh.dll), so the process path alone would start dotnet, not pwsh.
function Get-ChildPwshCommand {
    $process = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($process) -eq 'pwsh') { return , @($process) }
    return , @($process, (Join-Path $PSHOME 'pwsh.dll'))
}

function Get-PesterManifest {
    Invoke-Dotnet restore build/TestTools/TestTools.csproj --verbosity quiet
    $manifest = Get-ChildItem (Join-Path $PSScriptRoot 'artifacts/packages/pester/*/tools/Pester.psd1') |
        Sort-Object { [version]$_.Directory.Parent.Name } -Descending | Select-Object -First 1
    if (-not $manifest) { throw 'Pester was not restored into artifacts/packages (see build/TestTools/TestTools.csproj).' }
    return $manifest.FullName
}

function Invoke-PesterSuite {
    $pester = Get-PesterManifest
    $child = Get-ChildPwshCommand
    $tags = if ($PesterTag) { "@('" + ($PesterTag -join "','") + "')" } else { '$null' }
    $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$pester'
`$config = New-PesterConfiguration
`$config.Run.Path = '$PSScriptRoot/tests/Pester'
`$config.Run.PassThru = `$true
`$config.Output.Verbosity = 'Detailed'
`$config.TestResult.Enabled = `$true
`$config.TestResult.OutputPath = '$PSScriptRoot/artifacts/TestResults/pester.xml'
if ($tags) { `$config.Filter.Tag = $tags }
`$env:CHATVECTOR_TEST_CONFIGURATION = '$Configuration'
`$result = Invoke-Pester -Configuration `$config
exit (`$result.FailedCount + `$result.FailedBlocksCount + `$result.FailedContainersCount)
"@
    Write-Host "> pwsh (child) Invoke-Pester tests/Pester" -ForegroundColor Cyan
    $childArguments = @($child | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', $script)
    & $child[0] @childArguments | Out-Host
    return $LASTEXITCODE
}

function Publish-Module {
    $out = Join-Path $PSScriptRoot 'out/ChatVector'
    if (Test-Path $out) { Remove-Item $out -Recurse -Force }
    $null = New-Item -ItemType Directory -Path (Join-Path $out 'module') -Force
    Copy-Item ChatVector.psd1 -Destination $out
    Copy-Item module/*.ps1xml -Destination (Join-Path $out 'module')
    Copy-Item module/bin -Destination (Join-Path $out 'module') -Recurse
    # Get-Help reads a binary module's help from <ModuleBase>/<culture>, beside the manifest.
    Copy-Item module/bin/en-US -Destination $out -Recurse
    Write-Host "Published to $out (natives: $($Rids -join ', '))." -ForegroundColor Green
}

Push-Location $PSScriptRoot
try {
    $buildArgs = @('build', 'ChatVector.PowerShell.sln', '-c', $Configuration)
    if ($Publish) {
        # %3B is MSBuild's escape for ';' (a bare ';' would separate properties on the command line).
        $buildArgs += "-p:ModuleRids=$($Rids -join '%3B')"
    }
    # The whole solution, before any test: no test may start while the module layout is being copied.
    Invoke-Dotnet @buildArgs
    # Help (module/bin/en-US, en-US) from the built cmdlets' metadata and help/*.md; a child pwsh imports
    # the module, so the DLL stays unlocked here.
    $child = Get-ChildPwshCommand
    & $child[0] @($child | Select-Object -Skip 1) -NoProfile -NonInteractive -File build/New-ModuleHelp.ps1
    if ($LASTEXITCODE -ne 0) { throw "build/New-ModuleHelp.ps1 failed with exit code $LASTEXITCODE." }

    if ($Publish) { Publish-Module }

    if ($Test) {
        # Both suites always run; the script fails afterwards if either did.
        & dotnet test ChatVector.PowerShell.sln -c $Configuration --no-build
        $xunitExit = $LASTEXITCODE
        $pesterFailed = Invoke-PesterSuite
        if ($xunitExit -ne 0 -or $pesterFailed -ne 0) {
            throw "Tests failed: xunit exit code $xunitExit, Pester failures $pesterFailed."
        }
        Write-Host 'All xunit and Pester tests passed.' -ForegroundColor Green
    }
}
finally {
    Pop-Location
}
