# Looking at models without changing them: Get-SafeTensor (lazy handles), Show-SafeTensor (first values and
# statistics of one tensor), Test-SafeTensor (validation that reports, never throws).
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $trio = New-TestTrio (Join-Path $TestDrive 'trio')
    $bad = Join-Path $TestDrive 'bad.safetensors'
    [IO.File]::WriteAllBytes($bad, [byte[]](1, 2, 3))
    $pickle = Join-Path $TestDrive 'pickle'
    $null = New-Item -ItemType Directory $pickle
    [IO.File]::WriteAllBytes((Join-Path $pickle 'pytorch_model.bin'), [byte[]](0x80, 0x02))

    # One F32 tensor file written by the independent writer, values as given (NaN and Inf allowed).
    function New-F32File([string] $Path, [string] $Name, [float[]] $Values) {
        [ChatVector.TestKit.SafeTensorsWriter]::WriteF32($Path, $Name, $Values)
    }
}

Describe 'Get-SafeTensor' -Tag 'Inspect' {
    It 'lists every tensor of a sharded folder with its dtype and shape' {
        $handles = Get-SafeTensor (Join-Path $Tiny 'cp')
        $handles.Count | Should -Be 21
        ($handles | Where-Object Name -EQ 'model.embed_tokens.weight').Shape | Should -Be @(80, 32)
        $handles.Name | Sort-Object | Should -Be ((Read-IndependentTensors (Join-Path $Tiny 'cp')).Keys | Sort-Object)
    }

    It 'reads a single file' {
        $file = Get-ChildItem $trio.Cp -Filter *.safetensors | Select-Object -First 1
        $expected = (Read-IndependentTensors $file.FullName).Keys | Sort-Object
        (Get-SafeTensor $file.FullName).Name | Sort-Object | Should -Be $expected
    }

    It 'keeps the tensors that the positional -Name matches, minus -Exclude' {
        $expected = $trio.CpValues.Keys | Where-Object { $_ -like 'model.layers.0.*' -and $_ -notlike '*_proj.weight' } | Sort-Object
        $expected.Count | Should -Be 2
        (Get-SafeTensor $trio.Cp 'model.layers.0.*' -Exclude '*_proj.weight').Name | Sort-Object | Should -Be $expected
    }

    It 'takes paths from the pipeline by value' {
        ($trio.Cp, (Join-Path $Tiny 'base') | Get-SafeTensor).Count | Should -Be ($trio.CpValues.Count + 21)
    }

    It 'takes paths by property name (FullName from Get-ChildItem)' {
        (Get-ChildItem (Join-Path $Tiny 'cp') -Filter *.safetensors | Get-SafeTensor).Count | Should -Be 21
    }

    It 'shows a handle''s dtype, shape, size, kind, file and model' {
        $handle = [pscustomobject]@{ FullName = $trio.Cp } | Get-SafeTensor -Name model.norm.weight
        @($handle).Count | Should -Be 1
        $handle.DType | Should -Be 'BF16'
        $handle.DType.GetType().IsEnum | Should -BeTrue   # the dtype itself, not text to parse again
        $handle.Shape | Should -Be @(16)
        $handle.ElementCount | Should -Be 16
        $handle.Bytes | Should -Be 32
        $handle.Kind | Should -Be 'Stored'
        $handle.File | Should -BeLike '*.safetensors'
        Test-Path $handle.File | Should -BeTrue
        $handle.Model | Should -Be $trio.Cp
        "$handle" | Should -Be 'model.norm.weight BF16 [16]'
    }

    It 'renders handles as a table with name, dtype, shape, bytes and kind' {
        $handle = Get-SafeTensor $trio.Cp -Name model.embed_tokens.weight
        $text = $handle | Out-String -Width 200
        $text | Should -Match 'Name\s+DType\s+Shape\s+Bytes\s+Kind'
        $text | Should -Match "model\.embed_tokens\.weight\s+BF16\s+\[44, 16\]\s+1408\s+Stored"
    }

    It 'loads one handle as a TorchSharp tensor of its shape, dtype and values' {
        $name = 'model.layers.0.self_attn.q_proj.weight'
        $tensor = (Get-SafeTensor $trio.Cp -Name $name).ToTensor('cpu')
        try {
            $tensor.shape | Should -Be @(16, 16)
            $tensor.dtype.ToString() | Should -Be 'BFloat16'
            $tensor.float().flatten()[17].item[float]() | Should -Be $trio.CpValues[$name][17]
        }
        finally { $tensor.Dispose() }
    }

    It 'reports a bad file as a non-terminating error naming the file and the rule, then goes on' {
        $handles = Get-SafeTensor $bad, $trio.Cp -ErrorVariable errors -ErrorAction SilentlyContinue
        $handles.Count | Should -Be $trio.CpValues.Count
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -Be 'FileTooShort,ChatVector.PowerShell.Cmdlets.GetSafeTensorCommand'
        $errors[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $errors[0].Exception.Message | Should -BeLike '*bad.safetensors*'
    }

    It 'reports a path that does not exist as a non-terminating error naming it, then goes on' {
        $missing = Join-Path $TestDrive 'no-such-model'
        $handles = Get-SafeTensor $missing, $trio.Cp -ErrorVariable errors -ErrorAction SilentlyContinue
        $handles.Count | Should -Be $trio.CpValues.Count
        $errors.Count | Should -Be 1
        $errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $errors[0].Exception.Message | Should -BeLike '*no-such-model*'
    }

    It 'refuses a folder of pickle weights, saying why' {
        $null = Get-SafeTensor $pickle -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'PickleWeightsRefused,*'
        $errors[0].Exception.Message | Should -BeLike '*arbitrary code*'
    }
}

Describe 'Show-SafeTensor' -Tag 'Inspect' {
    BeforeAll {
        $values = $trio.CpValues['model.layers.1.mlp.up_proj.weight'] | ForEach-Object { [double]$_ }
    }

    It 'shows the first -Count values and statistics of the tensor, computed independently' {
        $preview = Get-SafeTensor $trio.Cp -Name model.layers.1.mlp.up_proj.weight | Show-SafeTensor -Count 4
        @($preview).Count | Should -Be 1
        $preview.Name | Should -Be 'model.layers.1.mlp.up_proj.weight'
        $preview.DType | Should -Be 'BF16'
        $preview.Shape | Should -Be @(24, 16)
        $preview.First | Should -Be $values[0..3]
        $mean = ($values | Measure-Object -Average).Average
        $std = [Math]::Sqrt((($values | ForEach-Object { ($_ - $mean) * ($_ - $mean) }) | Measure-Object -Sum).Sum / $values.Count)
        $preview.Mean | Should -BeGreaterOrEqual ($mean - 1e-7)
        $preview.Mean | Should -BeLessOrEqual ($mean + 1e-7)
        [Math]::Abs($preview.Std - $std) | Should -BeLessThan 1e-6
        $preview.Min | Should -Be ($values | Measure-Object -Minimum).Minimum
        $preview.Max | Should -Be ($values | Measure-Object -Maximum).Maximum
        $preview.NaNCount | Should -Be 0
    }

    It 'shows 8 values by default, one preview per handle' {
        $previews = Get-SafeTensor $trio.Cp -Name model.layers.1.mlp.up_proj.weight, model.norm.weight | Show-SafeTensor
        $previews.Count | Should -Be 2
        ($previews | Where-Object Name -EQ model.layers.1.mlp.up_proj.weight).First | Should -Be $values[0..7]
    }

    It 'renders previews with Format-Table one line per tensor in 80 columns: name, shape, moments, extremes' {
        $previews = Get-SafeTensor $trio.Cp -Name model.layers.1.mlp.up_proj.weight, model.norm.weight | Show-SafeTensor
        $lines = @(($previews | Format-Table | Out-String -Width 80) -split "`n" | Where-Object { $_.Trim() })
        $lines[0] -split '\s+' | Where-Object { $_ } | Should -Be @('Name', 'Shape', 'Mean', 'Std', 'Min', 'Max')
        $row = $lines | Where-Object { $_ -like 'model.layers.1.mlp.up_pr*' }
        $row | Should -BeLike '*`[24, 16`]*'
        $row | Should -BeLike "*$(([double]$previews[0].Max).ToString('G3', [cultureinfo]::InvariantCulture))*"
        $lines | Where-Object { $_.TrimEnd().Length -gt 80 } | Should -BeNullOrEmpty
        $lines.Count | Should -Be 4 # header, rule, two tensors
    }

    It 'counts NaN and Inf values and leaves them out of the statistics' {
        $path = Join-Path $TestDrive 'nonfinite.safetensors'
        New-F32File $path 'x' @(1, [float]::NaN, 3, [float]::PositiveInfinity, [float]::NegativeInfinity)
        $preview = Get-SafeTensor $path | Show-SafeTensor
        $preview.NaNCount | Should -Be 1
        $preview.InfCount | Should -Be 2
        $preview.Mean | Should -Be 2
        $preview.Max | Should -Be 3
    }

    It 'renders as a list with the first values' {
        $text = Get-SafeTensor $trio.Cp -Name model.norm.weight | Show-SafeTensor -Count 2 | Out-String -Width 200
        $first = ($trio.CpValues['model.norm.weight'][0..1] | ForEach-Object { '{0:G5}' -f [double]$_ }) -join ', '
        $text | Should -Match "First\s*:\s*$([regex]::Escape($first))"
        $text | Should -Match 'Shape\s*:\s*\[16\]'
    }

    It 'refuses an unknown device with a terminating DeviceUnavailable error' {
        { Get-SafeTensor $trio.Cp -Name model.norm.weight | Show-SafeTensor -Device tpu } |
            Should -Throw -ErrorId 'DeviceUnavailable,ChatVector.PowerShell.Cmdlets.ShowSafeTensorCommand'
    }

    It 'refuses a negative -Count' {
        { Get-SafeTensor $trio.Cp -Name model.norm.weight | Show-SafeTensor -Count -1 } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,ChatVector.PowerShell.Cmdlets.ShowSafeTensorCommand'
    }
}

Describe 'Test-SafeTensor' -Tag 'Inspect' {
    It 'reports a valid folder: files, tensors, no problems, no data counts without -Data' {
        $report = Test-SafeTensor $trio.Cp
        $report.Valid | Should -BeTrue
        $report.Files | Should -Be 2
        $report.Tensors | Should -Be $trio.CpValues.Count
        $report.Problems | Should -BeNullOrEmpty
        $report.NaNCount | Should -BeNullOrEmpty
        $report.ChecksumsVerified | Should -BeNullOrEmpty
    }

    It 'reports bad files and pickle weights without throwing, naming the rule' {
        $reports = Test-SafeTensor $bad, $pickle, $trio.Cp -ErrorAction Stop
        $reports.Valid | Should -Be @($false, $false, $true)
        $reports[0].Problems.Rule | Should -Contain 'FileTooShort'
        $reports[0].Problems[0].Message | Should -BeLike '*bad.safetensors*'
    }

    It 'reports a path of another provider as such, and hints at -LiteralPath for a missing name with brackets' {
        $env = Test-SafeTensor Env:/PATH
        $env.Valid | Should -BeFalse
        @($env.Problems).Rule | Should -Be 'NotAFile'
        @($env.Problems).Message | Should -BeLike '*Env:/PATH is a path of the Environment provider; Test-SafeTensor tests files and folders.*'
        $bracket = Test-SafeTensor (Join-Path $TestDrive 'n[2]')
        @($bracket.Problems).Message | Should -BeLike '*use -LiteralPath for a name that holds them*'
    }

    It 'reports a missing path as invalid instead of throwing' {
        $report = Test-SafeTensor (Join-Path $TestDrive 'no-such-model') -ErrorAction Stop
        $report.Valid | Should -BeFalse
        $report.Problems | Should -Not -BeNullOrEmpty
    }

    It 'answers $true or $false per path with -Quiet' {
        Test-SafeTensor $bad, $trio.Cp -Quiet | Should -Be @($false, $true)
    }

    It 'takes paths from the pipeline by value and by property name' {
        ($trio.Cp, $bad | Test-SafeTensor -Quiet) | Should -Be @($true, $false)
        $files = Get-ChildItem $trio.Cp -Filter *.safetensors
        $reports = $files | Test-SafeTensor
        $reports.Count | Should -Be $files.Count
        $reports.Valid | Should -Not -Contain $false
    }

    It 'with -Data counts NaN and Inf values and verifies checksums recorded at export' {
        $checked = Join-Path $TestDrive 'checked'
        Get-SafeTensor $trio.Cp | Export-SafeTensor $checked -Checksum
        $report = Test-SafeTensor $checked -Data
        $report.Valid | Should -BeTrue
        $report.ChecksumsVerified | Should -Be $trio.CpValues.Count
        $report.NaNCount | Should -Be 0
        $report.InfCount | Should -Be 0

        $path = Join-Path $TestDrive 'nan.safetensors'
        New-F32File $path 'x' @([float]::NaN, [float]::NaN, [float]::PositiveInfinity, 1)
        $report = Test-SafeTensor $path -Data
        $report.NaNCount | Should -Be 2
        $report.InfCount | Should -Be 1
        $report.ChecksumsVerified | Should -Be 0
    }

    It 'finds a tensor whose bytes no longer match its recorded checksum' {
        $copy = Join-Path $TestDrive 'tampered.safetensors'
        Get-SafeTensor $trio.Cp -Name model.norm.weight | Export-SafeTensor $copy -Checksum
        $bytes = [IO.File]::ReadAllBytes($copy)
        $bytes[-1] = $bytes[-1] -bxor 0x01
        [IO.File]::WriteAllBytes($copy, $bytes)
        $report = Test-SafeTensor $copy -Data
        $report.Valid | Should -BeFalse
        $report.ChecksumsVerified | Should -Be 0
    }

    It 'renders reports as a table with validity, counts and path' {
        $text = Test-SafeTensor $trio.Cp | Out-String -Width 300
        $text | Should -Match 'Valid\s+Files\s+Tensors\s+Checksums\s+Problems\s+Path'
        # The path column is shortened from the left to fit 80 columns: its end is shown.
        $text | Should -Match "True\s+2\s+$($trio.CpValues.Count)\s+\S*$([regex]::Escape([IO.Path]::DirectorySeparatorChar + (Join-Path 'trio' 'cp')))"
    }
}
