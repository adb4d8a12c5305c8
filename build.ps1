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

    -Publish assembles <PublishPath>/ChatVector/ (manifest, format file, help, module/bin) with the natives
    of exactly the platforms in -Rids, and packs it with PSResourceGet (Compress-PSResource, offline) as
    <PublishPath>/ChatVector.<version>.nupkg, which Install-PSResource and Install-Module accept from a
    local repository (Register-PSResourceRepository -Name local -Uri <PublishPath> -Trusted;
    Install-PSResource ChatVector -Repository local).

    Works under an installed pwsh and under the dotnet tool (dotnet tool restore; dotnet pwsh ./build.ps1).

.EXAMPLE
    ./build.ps1                                   # build (Release, optimized) and lay out module/bin
.EXAMPLE
    dotnet tool restore; dotnet pwsh -NoProfile -File ./build.ps1 -Configuration Release -Test
.EXAMPLE
    ./build.ps1 -Configuration Release -Publish -Rids linux-x64    # out/ChatVector and out/ChatVector.<version>.nupkg
#>
[CmdletBinding()]
param(
    # Release (optimized) unless asked: a Debug module merges about 3.5x slower, and says so when imported.
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    [switch] $Publish,

    [switch] $Test,

    # Passed to Invoke-Pester as its Filter.Tag (for a quick run of one area).
    [string[]] $PesterTag,

    # Platforms whose libtorch natives -Publish ships (each adds hundreds of MB).
    [ValidateSet('linux-x64', 'win-x64', 'osx-arm64')]
    [string[]] $Rids = @('linux-x64', 'win-x64'),

    # Where -Publish puts the module folder and the .nupkg.
    [string] $PublishPath = (Join-Path $PSScriptRoot 'out')
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

# The platform a libtorch native in module/bin/deps belongs to, or $null for a managed assembly or other file.
# module/bin/deps holds every platform ever built there (the layout only adds), so publishing picks by this.
function Get-NativePlatform {
    param([IO.FileInfo] $File)
    if ($File.Name -match '\.so(\.\d+)*$') { return 'linux-x64' }
    if ($File.Extension -eq '.dylib') { return 'osx-arm64' }
    if ($File.Extension -ne '.dll') { return $null }
    try { $null = [Reflection.AssemblyName]::GetAssemblyName($File.FullName); return $null } # managed
    catch [BadImageFormatException] { return 'win-x64' }
}

# module/bin with only the natives of -Rids, into $Destination; fails if a platform's natives are missing.
function Copy-ModuleBinaries {
    param([string] $Destination)
    $bin = New-Item -ItemType Directory -Path (Join-Path $Destination 'bin') -Force
    Get-ChildItem module/bin | Where-Object Name -NE 'deps' | Copy-Item -Destination $bin -Recurse
    $deps = New-Item -ItemType Directory -Path (Join-Path $bin 'deps') -Force
    $source = (Resolve-Path module/bin/deps).Path
    $shipped = @{}
    foreach ($file in Get-ChildItem $source -File -Recurse) {
        $platform = Get-NativePlatform $file
        if ($platform -and $platform -notin $Rids) { continue }
        if ($platform) { $shipped[$platform] = $true }
        $relative = [IO.Path]::GetRelativePath($source, $file.FullName)
        $target = Join-Path $deps $relative
        $null = New-Item -ItemType Directory -Path (Split-Path $target) -Force
        Copy-Item $file.FullName -Destination $target
    }
    $missing = $Rids | Where-Object { -not $shipped[$_] }
    if ($missing) { throw "module/bin/deps has no libtorch natives for $($missing -join ', '); the build should have laid them out." }
}

function Publish-Module {
    $null = New-Item -ItemType Directory -Path $PublishPath -Force
    $out = Join-Path $PublishPath 'ChatVector'
    if (Test-Path $out) { Remove-Item $out -Recurse -Force }
    $null = New-Item -ItemType Directory -Path (Join-Path $out 'module') -Force
    Copy-Item ChatVector.psd1 -Destination $out
    Copy-Item module/*.ps1xml -Destination (Join-Path $out 'module')
    Copy-ModuleBinaries -Destination (Join-Path $out 'module')
    # Get-Help reads a binary module's help from <ModuleBase>/<culture>, beside the manifest.
    Copy-Item module/bin/en-US -Destination $out -Recurse

    $version = (Import-PowerShellDataFile ChatVector.psd1).ModuleVersion
    $package = Join-Path $PublishPath "ChatVector.$version.nupkg"
    if (Test-Path $package) { Remove-Item $package -Force }
    # PSResourceGet (inside pwsh 7.4+) packs without a repository or the network.
    Import-Module Microsoft.PowerShell.PSResourceGet -ErrorAction Stop
    Compress-PSResource -Path $out -DestinationPath $PublishPath
    if (-not (Test-Path $package)) { throw "Compress-PSResource did not write $package." }
    Write-Host "Published $out and $package (natives: $($Rids -join ', '))." -ForegroundColor Green
}

# Relative to where the script was started from, not to the repository root it works in.
$PublishPath = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($PublishPath)
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
