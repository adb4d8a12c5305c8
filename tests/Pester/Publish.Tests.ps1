# The module as it ships: './build.ps1 -Publish' makes a module folder and a .nupkg; both PowerShell
# package managers install it from a local folder repository, and the installed copy, imported by name in a
# fresh pwsh, merges the tiny example models. Both save into a temporary module folder that becomes the child's
# PSModulePath (Save-* is Install-* with the destination chosen, on every platform). Each child pwsh gets its own
# XDG_DATA_HOME, so the repository registrations land in the test's folder, not in the user's (and are removed).
# Windows ignores XDG_DATA_HOME (both managers keep repositories under the user's AppData), so there the
# install tests are skipped rather than register repositories in the user's own profile.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $rid = [Runtime.InteropServices.RuntimeInformation]::RuntimeIdentifier
    $supported = $rid -in 'linux-x64', 'win-x64', 'osx-arm64'
    $published = Join-Path $TestDrive 'out'
    $version = (Import-PowerShellDataFile (Join-Path $RepoRoot 'ChatVector.psd1')).ModuleVersion
    if ($supported) {
        # Only this machine's natives: the smallest publish that can run here (about 20 s when the build is current).
        $build = Invoke-ChildPwsh -Environment @{ CV_CONFIGURATION = $configuration; CV_RID = $rid; CV_OUT = $published } -Script @'
./build.ps1 -Configuration $env:CV_CONFIGURATION -Publish -Rids $env:CV_RID -PublishPath $env:CV_OUT
'@
    }

    # Registers $Published as a trusted repository under a unique name for the length of $Body (run in a child
    # pwsh with $DataHome as XDG_DATA_HOME); $Body sees the name as $repository.
    function Invoke-WithLocalRepository([string] $DataHome, [string] $Register, [string] $Unregister, [string] $Body, [hashtable] $Environment = @{}) {
        $script = @"
`$ErrorActionPreference = 'Stop'
`$repository = 'ChatVectorTest' + [guid]::NewGuid().ToString('N')
$Register
try {
$Body
}
finally { $Unregister }
"@
        Invoke-ChildPwsh -Script $script -Environment (@{ XDG_DATA_HOME = $DataHome; CV_REPO = $published } + $Environment)
    }
}

Describe 'build.ps1 -Publish' -Tag 'Publish' {
    BeforeEach {
        if (-not $supported) { Set-ItResult -Skipped -Because "ChatVector ships no libtorch natives for $rid" }
    }

    It 'makes the module folder and a .nupkg with the module and only the requested platform''s natives' {
        $build.ExitCode | Should -Be 0 -Because $build.Text
        Join-Path $published 'ChatVector/ChatVector.psd1' | Should -Exist
        Join-Path $published 'ChatVector/en-US/ChatVector.PowerShell.dll-Help.xml' | Should -Exist
        $package = Join-Path $published "ChatVector.$version.nupkg"
        $package | Should -Exist

        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [IO.Compression.ZipFile]::OpenRead($package)
        try {
            $entries = $zip.Entries.FullName
            $nuspec = [xml](New-Object IO.StreamReader ($zip.GetEntry('ChatVector.nuspec').Open())).ReadToEnd()
        }
        finally { $zip.Dispose() }
        $nuspec.package.metadata.id | Should -Be 'ChatVector'
        $nuspec.package.metadata.version | Should -Be $version
        $entries | Should -Contain 'ChatVector.psd1'
        $entries | Should -Contain 'module/ChatVector.format.ps1xml'
        $entries | Should -Contain 'module/bin/ChatVector.PowerShell.dll'
        $entries | Should -Contain 'module/bin/deps/TorchSharp.dll'
        $otherNatives = @{ 'linux-x64' = 'module/bin/deps/libtorch_cpu.so'; 'win-x64' = 'module/bin/deps/torch_cpu.dll'; 'osx-arm64' = 'module/bin/deps/libtorch_cpu.dylib' }
        $entries | Should -Contain $otherNatives[$rid]
        foreach ($other in $otherNatives.Keys | Where-Object { $_ -ne $rid }) { $entries | Should -Not -Contain $otherNatives[$other] }
    }

    It 'installs with PSResourceGet; Import-Module ChatVector by name in a fresh pwsh merges examples/tiny' {
        if ($IsWindows) { Set-ItResult -Skipped -Because 'Windows ignores XDG_DATA_HOME: registering the test repository would change the user''s own repository list'; return }
        $dataHome = Join-Path $TestDrive 'psresourceget'
        $modules = Join-Path $TestDrive 'psresourceget-modules'
        $install = Invoke-WithLocalRepository $dataHome -Environment @{ CV_MODULES = $modules } `
            -Register 'Register-PSResourceRepository -Name $repository -Uri $env:CV_REPO -Trusted' `
            -Unregister 'Unregister-PSResourceRepository -Name $repository' `
            -Body '$null = New-Item -ItemType Directory $env:CV_MODULES; Save-PSResource -Name ChatVector -Repository $repository -Path $env:CV_MODULES -TrustRepository -Quiet'
        $install.ExitCode | Should -Be 0 -Because $install.Text
        Join-Path $modules ChatVector $version ChatVector.psd1 | Should -Exist

        $merged = Join-Path $TestDrive 'merged'
        $run = Invoke-ChildPwsh -Environment @{ XDG_DATA_HOME = $dataHome; PSModulePath = $modules; CV_TINY = $Tiny; CV_MERGED = $merged } -Script @'
$ErrorActionPreference = 'Stop'
Import-Module ChatVector
(Get-Module ChatVector).ModuleBase
Get-ChatVector -Base $env:CV_TINY/base -Chat $env:CV_TINY/chat |
    Add-ChatVector -Model $env:CV_TINY/cp -Ratio 0.5 |
    Export-SafeTensor $env:CV_MERGED -MaxShardSize 40KB -Checksum
'@
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $run.Output[0] | Should -Be (Join-Path $modules ChatVector $version)

        $report = Test-SafeTensor $merged -Data
        $report.Valid | Should -BeTrue
        $report.ChecksumsVerified | Should -Be 21
        (Get-Content (Join-Path $merged 'tokenizer_config.json') -Raw | ConvertFrom-Json).eos_token | Should -Be '<|eot_id|>'
        $name = 'model.layers.0.mlp.down_proj.weight'
        $base = (Read-IndependentTensors (Join-Path $Tiny 'base'))[$name]
        $chat = (Read-IndependentTensors (Join-Path $Tiny 'chat'))[$name]
        $cp = (Read-IndependentTensors (Join-Path $Tiny 'cp'))[$name]
        $out = (Read-IndependentTensors $merged)[$name]
        $far = for ($i = 0; $i -lt $out.Count; $i++) {
            $expected = [ChatVector.TestKit.Independent.Bf16]::FromFloat([float]($cp[$i] + [float](0.5 * [float]($chat[$i] - $base[$i]))))
            $actual = [ChatVector.TestKit.Independent.Bf16]::FromFloat([float]$out[$i])
            if ([ChatVector.TestKit.Independent.Bf16]::UlpDistance($actual, $expected) -gt 1) { $i }
        }
        $far | Should -BeNullOrEmpty
    }

    It 'installs with PowerShellGet (Install-Module''s engine) from the same folder' {
        if ($IsWindows) { Set-ItResult -Skipped -Because 'Windows ignores XDG_DATA_HOME: registering the test repository would change the user''s own repository list'; return }
        $dataHome = Join-Path $TestDrive 'powershellget'
        $modules = Join-Path $TestDrive 'powershellget-modules'
        $install = Invoke-WithLocalRepository $dataHome -Environment @{ CV_MODULES = $modules } `
            -Register 'Register-PSRepository -Name $repository -SourceLocation $env:CV_REPO -InstallationPolicy Trusted' `
            -Unregister 'Unregister-PSRepository -Name $repository' `
            -Body '$null = New-Item -ItemType Directory $env:CV_MODULES; Save-Module -Name ChatVector -Repository $repository -Path $env:CV_MODULES'
        $install.ExitCode | Should -Be 0 -Because $install.Text

        $run = Invoke-ChildPwsh -Environment @{ XDG_DATA_HOME = $dataHome; PSModulePath = $modules } -Script @'
$ErrorActionPreference = 'Stop'
Import-Module ChatVector
(Get-Module ChatVector).ModuleBase
(Get-ChatVectorRuntime).SelfTest
'@
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $run.Output | Should -Be @((Join-Path $modules ChatVector $version), 'Passed')
    }
}
