# All or nothing, for every error: what headers can tell is checked before the first byte is written,
# NaN/Inf in a computed tensor fails the export, and a failure leaves nothing behind, whatever
# $ErrorActionPreference is.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    # Everything under a folder, hidden staging and lock files included.
    function Get-Leftovers([string] $Folder) { @(Get-ChildItem $Folder -Force -ErrorAction SilentlyContinue) }

    # Runs a script file in a child pwsh like this one (-File, as a scheduler would; Invoke-ChildPwsh uses
    # -Command); returns its exit code and its output as text.
    function Invoke-ChildScript([string] $Script) {
        $path = Join-Path $TestDrive "child-$([guid]::NewGuid().ToString('N')).ps1"
        Set-Content $path $Script
        $pwsh = Get-ChildPwshCommand
        [string[]] $arguments = @($pwsh | Select-Object -Skip 1)
        $output = & $pwsh[0] @arguments -NoProfile -NonInteractive -File $path 2>&1 | Out-String
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = $output }
    }
}

Describe 'Header checks run before anything is written' -Tag 'AllOrNothing' {
    BeforeAll {
        $trio = New-TestTrio (Join-Path $TestDrive 'trio')
        # The chat model of another architecture: its MLP tensors are wider than the base's.
        $wide = Join-Path $TestDrive 'wide'
        $null = ([ChatVector.TestKit.LlamaModelBuilder]@{ Seed = 5; Vocab = 40; Intermediate = 32 }).Write($wide)
        $work = Join-Path $TestDrive 'out'
        New-Item -ItemType Directory $work | Out-Null
    }
    AfterEach { Get-Leftovers $work | Remove-Item -Recurse -Force }

    It 'a shape mismatch stops the pipeline with ShapeMismatch naming both shapes; nothing is written' {
        $target = Join-Path $work 'merged'
        { Get-ChatVector -Base $trio.Base -Chat $wide | Add-ChatVector -Model $trio.Cp | Export-SafeTensor $target } |
            Should -Throw -ErrorId 'ShapeMismatch,ChatVector.PowerShell.Cmdlets.GetChatVectorCommand' -ExpectedMessage '*gate_proj*[24, 16]*[32, 16]*'
        Get-Leftovers $work | Should -BeNullOrEmpty
    }

    It 'writes nothing even when $ErrorActionPreference is SilentlyContinue' {
        $target = Join-Path $work 'merged'
        try {
            & {
                $ErrorActionPreference = 'SilentlyContinue'
                Get-ChatVector -Base $trio.Base -Chat $wide | Add-ChatVector -Model $trio.Cp | Export-SafeTensor $target
            }
        } catch { } # Pester's own try would catch it anyway: what counts is the disk
        Get-Leftovers $work | Should -BeNullOrEmpty
    }

    It '-SkipMismatched leaves those tensors as the model''s, merges the rest, and the model card lists each skipped tensor' {
        $target = Join-Path $work 'merged'
        Get-ChatVector -Base $trio.Base -Chat $wide -SkipMismatched -WarningVariable warnings -WarningAction SilentlyContinue |
            Add-ChatVector -Model $trio.Cp | Export-SafeTensor $target
        $warnings | Should -Not -BeNullOrEmpty
        $out = Read-IndependentTensors $target
        $skipped = 'model.layers.0.mlp.gate_proj.weight', 'model.layers.0.mlp.up_proj.weight', 'model.layers.0.mlp.down_proj.weight',
            'model.layers.1.mlp.gate_proj.weight', 'model.layers.1.mlp.up_proj.weight', 'model.layers.1.mlp.down_proj.weight'
        foreach ($name in $skipped) {
            [Linq.Enumerable]::SequenceEqual($out[$name], [double[]]$trio.CpValues[$name]) | Should -BeTrue -Because "$name is the model's"
        }
        # a paired tensor got its vector (cp + chat - base, one bf16 rounding)
        $name = 'model.layers.0.self_attn.q_proj.weight'
        $wideValues = (Read-IndependentTensors $wide)[$name]
        for ($i = 0; $i -lt $out[$name].Count; $i++) {
            $expected = $trio.CpValues[$name][$i] + $wideValues[$i] - $trio.BaseValues[$name][$i]
            [Math]::Abs($out[$name][$i] - $expected) | Should -BeLessOrEqual ([Math]::Abs($expected) / 128 + 1e-6)
        }
        $card = Get-Content (Join-Path $target 'README.md') -Raw
        foreach ($name in $skipped) { $card | Should -BeLike "*skipped: tensor '$name'*" }
    }

    It 'special-token ids outside the vocabulary stop Add-ChatVector whatever $ErrorActionPreference is; nothing is written' {
        $target = Join-Path $work 'merged'
        {
            $ErrorActionPreference = 'SilentlyContinue'
            Get-ChatVector -Base $trio.Base -Chat $trio.Chat |
                Add-ChatVector -Model $trio.Cp -SpecialTokenMap @{ 999 = 1 } | Export-SafeTensor $target
        } | Should -Throw -ErrorId 'MergeNotPossible,ChatVector.PowerShell.Cmdlets.AddChatVectorCommand'
        Get-Leftovers $work | Should -BeNullOrEmpty
    }

    It 'a chat template source that does not exist stops Add-ChatVector; nothing is written' {
        $target = Join-Path $work 'merged'
        { Get-ChatVector -Base $trio.Base -Chat $trio.Chat | Add-ChatVector -Model $trio.Cp -ChatTemplateFrom (Join-Path $TestDrive 'nowhere') | Export-SafeTensor $target } |
            Should -Throw -ErrorId 'PathNotFound,ChatVector.PowerShell.Cmdlets.AddChatVectorCommand'
        Get-Leftovers $work | Should -BeNullOrEmpty
    }

    It 'refuses with NoSpace, naming the needed and available bytes, when the target''s filesystem is too small' {
        $available = [IO.DriveInfo]::new($work).AvailableFreeSpace
        $bytes = [long]$available + 1GB
        if ($bytes -gt 8TB) { Set-ItResult -Skipped -Because 'the test filesystem has more than 8 TB free'; return }
        # A valid file whose one tensor is larger than the free space: sparse, so it costs no disk.
        $huge = Join-Path $TestDrive 'huge.safetensors'
        $header = '{"t":{"dtype":"U8","shape":[' + $bytes + '],"data_offsets":[0,' + $bytes + ']}}'
        $header += ' ' * ((8 - $header.Length % 8) % 8)
        $stream = [IO.File]::Create($huge)
        try {
            $stream.Write([BitConverter]::GetBytes([long]$header.Length), 0, 8)
            $stream.Write([Text.Encoding]::UTF8.GetBytes($header), 0, $header.Length)
            $stream.SetLength(8 + $header.Length + $bytes)
        } finally { $stream.Dispose() }
        $target = Join-Path $work 'copy.safetensors'
        { Get-SafeTensor $huge | Export-SafeTensor $target } |
            Should -Throw -ErrorId 'NoSpace,ChatVector.PowerShell.Cmdlets.ExportSafeTensorCommand' -ExpectedMessage '*needs*bytes*free; nothing was written*'
        Get-Leftovers $work | Should -BeNullOrEmpty
    }
}

Describe 'NaN and Inf in a computed tensor fail the export' -Tag 'AllOrNothing' {
    BeforeAll {
        $base = Join-Path $Tiny 'base'
        $chat = Join-Path $Tiny 'chat'
        $cp = Join-Path $Tiny 'cp'
        $work = Join-Path $TestDrive 'out'
        New-Item -ItemType Directory $work | Out-Null
    }
    AfterEach { Get-Leftovers $work | Remove-Item -Recurse -Force }

    It '-Ratio NaN fails with NonFiniteValues and leaves nothing, even with -ErrorAction SilentlyContinue' {
        $target = Join-Path $work 'merged'
        { Get-ChatVector -Base $base -Chat $chat -Ratio NaN | Add-ChatVector -Model $cp | Export-SafeTensor $target } |
            Should -Throw -ErrorId 'NonFiniteValues,ChatVector.PowerShell.Cmdlets.ExportSafeTensorCommand' -ExpectedMessage '*NaN*-AllowNonFinite*'
        Get-Leftovers $work | Should -BeNullOrEmpty
        { Get-ChatVector -Base $base -Chat $chat -Ratio NaN | Add-ChatVector -Model $cp | Export-SafeTensor $target -ErrorAction SilentlyContinue } |
            Should -Throw -ErrorId 'NonFiniteValues,ChatVector.PowerShell.Cmdlets.ExportSafeTensorCommand'
        Get-Leftovers $work | Should -BeNullOrEmpty
    }

    It 'an overflow to F16 fails with NonFiniteValues and leaves nothing' {
        $target = Join-Path $work 'merged'
        { Get-ChatVector -Base $base -Chat $chat | Add-ChatVector -Model $cp -Ratio 1e7 -DType F16 | Export-SafeTensor $target } |
            Should -Throw -ErrorId 'NonFiniteValues,ChatVector.PowerShell.Cmdlets.ExportSafeTensorCommand' -ExpectedMessage '*Inf*'
        Get-Leftovers $work | Should -BeNullOrEmpty
    }

    It '-AllowNonFinite writes them, with a warning' {
        $nan = Join-Path $work 'nan'
        Get-ChatVector -Base $base -Chat $chat -Ratio NaN | Add-ChatVector -Model $cp |
            Export-SafeTensor $nan -AllowNonFinite -WarningVariable warnings -WarningAction SilentlyContinue
        $warnings | Should -BeLike '*NaN*'
        (Read-IndependentTensors $nan)['model.layers.0.self_attn.q_proj.weight'] | Where-Object { [double]::IsNaN($_) } | Should -Not -BeNullOrEmpty

        $f16 = Join-Path $work 'f16'
        Get-ChatVector -Base $base -Chat $chat | Add-ChatVector -Model $cp -Ratio 1e7 -DType F16 |
            Export-SafeTensor $f16 -AllowNonFinite -WarningAction SilentlyContinue
        (Read-IndependentTensors $f16)['model.layers.0.self_attn.q_proj.weight'] | Where-Object { [double]::IsInfinity($_) } | Should -Not -BeNullOrEmpty
    }

    It 'makes a scheduled script (pwsh -File, $ErrorActionPreference = ''Stop'') exit non-zero, with nothing on disk' {
        $target = Join-Path $work 'merged'
        $manifest = Join-Path $RepoRoot 'ChatVector.psd1'
        $child = Invoke-ChildScript @"
`$ErrorActionPreference = 'Stop'
Import-Module '$manifest'
Get-ChatVector -Base '$base' -Chat '$chat' -Ratio NaN | Add-ChatVector -Model '$cp' | Export-SafeTensor '$target'
'done'
"@
        $child.ExitCode | Should -Not -Be 0
        $child.Output | Should -BeLike '*-AllowNonFinite*'
        $child.Output | Should -Not -BeLike '*done*'
        Get-Leftovers $work | Should -BeNullOrEmpty
    }

    It 'sets $? to false in a script under the default $ErrorActionPreference' {
        $target = Join-Path $work 'merged'
        $manifest = Join-Path $RepoRoot 'ChatVector.psd1'
        $child = Invoke-ChildScript @"
Import-Module '$manifest'
Get-ChatVector -Base '$base' -Chat '$chat' -Ratio NaN | Add-ChatVector -Model '$cp' | Export-SafeTensor '$target'
if (`$?) { exit 0 } else { exit 7 }
"@
        $child.ExitCode | Should -Be 7 -Because $child.Output
        Get-Leftovers $work | Should -BeNullOrEmpty
    }
}
