# The module as it loads: what it exports, the libtorch runtime and devices, where its assemblies load, and
# what still works in a process where libtorch cannot load.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
}

Describe 'Import-Module ChatVector' -Tag 'Runtime' {
    It 'exports exactly the cmdlets its manifest lists, each with an approved verb' {
        $expected = (Import-PowerShellDataFile (Join-Path $RepoRoot 'ChatVector.psd1')).CmdletsToExport | Sort-Object
        $expected | Should -Contain 'Get-ChatVector'
        (Get-Command -Module ChatVector).Name | Sort-Object | Should -Be $expected
        $approved = (Get-Verb).Verb
        foreach ($name in $expected) { $approved | Should -Contain ($name -split '-')[0] -Because $name }
    }

    It 'loads ChatVector.Core and TorchSharp into the module''s own load context, not the default one' {
        $null = Get-ChatVectorRuntime # Core and TorchSharp load on first use, not at import
        $contexts = [AppDomain]::CurrentDomain.GetAssemblies() |
            Where-Object { $_.GetName().Name -in 'ChatVector.Core', 'TorchSharp' } |
            ForEach-Object { [Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name }
        $contexts | Should -Not -BeNullOrEmpty
        $contexts | Should -Be (@('ChatVector.Dependencies') * @($contexts).Count)
    }
}

Describe 'Get-ChatVectorRuntime' -Tag 'Runtime' {
    It 'loads the shipped libtorch from the module''s deps folder and computes (bf16 -> float32 self-test)' {
        $info = Get-ChatVectorRuntime
        $info.PSObject.TypeNames[0] | Should -Be 'ChatVector.PowerShell.Output.RuntimeInfo'
        $info.SelfTest | Should -Be 'Passed'
        $info.SelfTestPassed | Should -BeTrue
        $info.SelfTestValue | Should -Be 22.5
        $info.Device | Should -Be 'cpu'
        # The module's own copy, not the NuGet cache.
        [IO.Path]::GetFullPath($info.NativeDirectory) | Should -Be ([IO.Path]::GetFullPath((Join-Path $RepoRoot 'module/bin/deps')))
    }

    It 'takes the device by position' {
        (Get-ChatVectorRuntime cpu).Device | Should -Be 'cpu'
    }

    It 'rejects an unknown device with a terminating InvalidDevice error' {
        $failure = { Get-ChatVectorRuntime -Device tpu } |
            Should -Throw -ErrorId 'InvalidDevice,ChatVector.PowerShell.Cmdlets.GetChatVectorRuntimeCommand' -PassThru
        $failure.TargetObject | Should -Be 'tpu'
        "$failure" | Should -Be "Unknown device 'tpu': use 'cpu', 'cuda' or 'cuda:N' (N = 0, 1, ...)." # no .NET "(Parameter ...)" suffix
    }

    It 'says a CUDA device that is not there is not there' {
        $count = (Get-ChatVectorRuntime).CudaDeviceCount
        $record = { Get-ChatVectorRuntime -Device "cuda:$($count + 7)" } |
            Should -Throw -ErrorId 'TorchRuntimeUnavailable,ChatVector.PowerShell.Cmdlets.GetChatVectorRuntimeCommand' -PassThru
        $record.Exception.Message | Should -Match 'CPU-only|not present'
    }

    It 'renders as a list with the versions, the device and the self-test' {
        $text = Get-ChatVectorRuntime | Out-String
        $info = Get-ChatVectorRuntime
        $text | Should -Match "TorchSharpVersion\s*:\s*$([regex]::Escape($info.TorchSharpVersion))"
        $text | Should -Match "LibTorchVersion\s*:\s*$([regex]::Escape($info.LibTorchVersion))"
        $text | Should -Match 'Device\s*:\s*cpu'
        $text | Should -Match 'SelfTest\s*:\s*Passed'
    }
}

Describe 'Where libtorch cannot load' -Tag 'Runtime' {
    # A child pwsh whose CHATVECTOR_NATIVE_DIR points at an empty folder: copying, inspecting and validating
    # never load libtorch, so they work; computing (Show-SafeTensor) fails with one clear error.
    BeforeAll {
        $noNatives = Join-Path $TestDrive 'no-natives'
        $null = New-Item -ItemType Directory $noNatives
        $target = Join-Path $TestDrive 'resharded'
        $environment = @{ CHATVECTOR_NATIVE_DIR = $noNatives; CV_MODEL = (Join-Path $Tiny 'cp'); CV_TARGET = $target }
    }

    It 'inspects, reshards and validates the data' {
        $child = Invoke-ChildPwsh -Environment $environment -Script @'
$ErrorActionPreference = 'Stop'
Import-Module ./ChatVector.psd1
Get-SafeTensor $env:CV_MODEL | Export-SafeTensor $env:CV_TARGET -MaxShardSize 8KB -Checksum
$report = Test-SafeTensor $env:CV_TARGET -Data
"valid=$($report.Valid) verified=$($report.ChecksumsVerified) nan=$($report.NaNCount)"
'@
        $child.ExitCode | Should -Be 0 -Because $child.Text
        $child.Output[-1] | Should -Be 'valid=True verified=21 nan=0'
        (Get-ChildItem $target -Filter *.safetensors).Count | Should -BeGreaterThan 3
        $expected = Read-IndependentTensors (Join-Path $Tiny 'cp')
        $written = Read-IndependentTensors $target
        $written.Keys | Sort-Object | Should -Be ($expected.Keys | Sort-Object)
        foreach ($name in $expected.Keys) { $written[$name] | Should -Be $expected[$name] -Because $name }
    }

    It 'fails to compute with a terminating DeviceUnavailable error' {
        $child = Invoke-ChildPwsh -Environment $environment -Script @'
Import-Module ./ChatVector.psd1
try { Get-SafeTensor $env:CV_MODEL -Name model.norm.weight | Show-SafeTensor; 'no error' }
catch { $_.FullyQualifiedErrorId; $_.Exception.Message }
'@
        $child.Output[0] | Should -Be 'DeviceUnavailable,ChatVector.PowerShell.Cmdlets.ShowSafeTensorCommand'
        $child.Output[1] | Should -BeLike '*CHATVECTOR_NATIVE_DIR*'
    }
}

Describe 'The build a user gets' -Tag 'Runtime' {
    # A Debug module merges several times slower; every way README offers to build must give the optimized one.
    It 'build.ps1 builds Release unless told otherwise' {
        $ast = [System.Management.Automation.Language.Parser]::ParseFile((Join-Path $RepoRoot 'build.ps1'), [ref]$null, [ref]$null)
        $parameter = $ast.ParamBlock.Parameters | Where-Object { $_.Name.VariablePath.UserPath -eq 'Configuration' }
        $parameter.DefaultValue.Value | Should -Be 'Release'
    }

    It 'a plain dotnet build of the solution builds its Release configuration' {
        $lines = & dotnet msbuild (Join-Path $RepoRoot 'ChatVector.PowerShell.sln') -t:ValidateSolutionConfiguration -v:n -nologo
        $LASTEXITCODE | Should -Be 0 -Because ($lines -join "`n")
        $lines -match 'Building solution configuration' | Should -Match '"Release\|'
    }

    It 'a plain dotnet build of a project builds it optimized' {
        $json = & dotnet msbuild (Join-Path $RepoRoot 'src/ChatVector.PowerShell/ChatVector.PowerShell.csproj') -getProperty:Configuration -getProperty:Optimize -nologo
        $LASTEXITCODE | Should -Be 0 -Because ($json -join "`n")
        $properties = ($json -join "`n" | ConvertFrom-Json).Properties
        $properties.Configuration | Should -Be 'Release'
        $properties.Optimize | Should -Be 'true'
    }

    It 'the module built for this suite is Release and imports without a warning' {
        $child = Invoke-ChildPwsh -Script 'Import-Module ./ChatVector.psd1; "build=$((Get-ChatVectorRuntime).Build)"'
        $child.ExitCode | Should -Be 0 -Because $child.Text
        $child.Output[-1] | Should -Be "build=$(if ($env:CHATVECTOR_TEST_CONFIGURATION -eq 'Debug') { 'Debug' } else { 'Release' })"
        if ($env:CHATVECTOR_TEST_CONFIGURATION -ne 'Debug') { $child.Text | Should -Not -Match 'WARNING' }
    }

    It 'a Debug build says so when imported, once, and in Get-ChatVectorRuntime' {
        # A Debug build laid out in a folder of its own (ModuleRoot), with the manifest beside it.
        $root = Join-Path $TestDrive 'debug-module'
        $null = New-Item -ItemType Directory (Join-Path $root 'module') -Force
        Copy-Item (Join-Path $RepoRoot 'ChatVector.psd1') $root
        Copy-Item (Join-Path $RepoRoot 'module/ChatVector.format.ps1xml') (Join-Path $root 'module')
        $build = & dotnet build (Join-Path $RepoRoot 'src/ChatVector.PowerShell/ChatVector.PowerShell.csproj') -c Debug -nologo -v:q "-p:ModuleRoot=$root/module/"
        $LASTEXITCODE | Should -Be 0 -Because ($build -join "`n")
        $child = Invoke-ChildPwsh -Environment @{ CV_MODULE = (Join-Path $root 'ChatVector.psd1') } -Script @'
Import-Module $env:CV_MODULE
Import-Module $env:CV_MODULE -Force
"build=$((Get-ChatVectorRuntime).Build)"
'@
        $child.ExitCode | Should -Be 0 -Because $child.Text
        @($child.Output -match 'WARNING: This ChatVector module is a Debug build').Count | Should -Be 1 -Because $child.Text
        $child.Text | Should -Match 'build\.ps1'
        $child.Output[-1] | Should -Be 'build=Debug'
    }
}

Describe 'CHATVECTOR_REPRODUCIBLE_KERNELS' -Tag 'Runtime' {
    It 'pins libtorch''s kernels and its thread count when set before the import, and says so' {
        $pinned = Invoke-ChildPwsh -Environment @{ CHATVECTOR_REPRODUCIBLE_KERNELS = '1'; CHATVECTOR_TORCH_THREADS = '2' } -Script @'
Import-Module ./ChatVector.psd1
$r = Get-ChatVectorRuntime
"pinned=$($r.ReproducibleKernels) threads=$($r.Threads)"
'@
        $pinned.Output[-1] | Should -Be 'pinned=True threads=1' -Because $pinned.Text
        $plain = Invoke-ChildPwsh -Environment @{ CHATVECTOR_TORCH_THREADS = '2' } -Script 'Import-Module ./ChatVector.psd1; $r = Get-ChatVectorRuntime; "pinned=$($r.ReproducibleKernels) threads=$($r.Threads)"'
        $plain.Output[-1] | Should -Be 'pinned=False threads=2' -Because $plain.Text
    }
}
