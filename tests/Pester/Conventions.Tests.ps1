# PowerShell conventions a user relies on: -Path/-LiteralPath, error ids per cause, tab completion,
# progress, 80-column views, and output objects that serialize.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    $script:Manifest = Join-Path $RepoRoot 'ChatVector.psd1'
    $script:CpShard = Join-Path $Tiny 'cp/model-00001-of-00003.safetensors'

    # Runs $Script in a fresh runspace of this process with the module imported, and returns the progress
    # records it wrote (a nested pipeline in this runspace sends them to the host, not to its streams).
    function Get-ProgressRecord {
        param([Parameter(Mandatory)] [string] $Script)
        $shell = [powershell]::Create()
        try {
            $null = $shell.AddScript("Set-Location -LiteralPath '$PWD'; Import-Module '$Manifest'; `$ProgressPreference = 'Continue'; $Script")
            $null = $shell.Invoke()
            $shell.Streams.Error | Should -BeNullOrEmpty
            @($shell.Streams.Progress)
        }
        finally { $shell.Dispose() }
    }

    # Completions offered at the end of $Line.
    function Get-Completion {
        param([Parameter(Mandatory)] [string] $Line)
        (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches
    }

    # Lines longer than $Width when $InputObject is shown at the prompt of an 80-column console.
    function Get-LongLine {
        param([Parameter(Mandatory)] [object[]] $InputObject, [int] $Width = 80)
        ($InputObject | Out-String -Width $Width) -split "`r?`n" | Where-Object { $_.Length -gt $Width }
    }

    # CSV cells that are a .NET type name (what Export-Csv writes for an array or an object).
    function Get-TypeNameCell {
        param([Parameter(Mandatory)] [object[]] $InputObject)
        $InputObject | ConvertTo-Csv | ConvertFrom-Csv | ForEach-Object { $_.PSObject.Properties.Value } |
            Where-Object { $_ -match '^(System|ChatVector|Newtonsoft|TorchSharp)\.[\w.`]+(\[[\w.,\s]*\])*$' }
    }

    # A child pwsh inside a private mount namespace, so it can mount what this test needs (read-only or tiny
    # file systems) without touching the machine; $Mounts runs in sh first. Returns its JSON output.
    function Invoke-InMountNamespace {
        param([Parameter(Mandatory)] [string] $Mounts, [Parameter(Mandatory)] [string] $Script)
        $file = Join-Path $TestDrive "child-$([guid]::NewGuid().ToString('N')).ps1"
        Set-Content -LiteralPath $file -Value "Import-Module '$Manifest'`n$Script"
        $process = [Environment]::ProcessPath
        $pwsh = if ([IO.Path]::GetFileNameWithoutExtension($process) -eq 'pwsh') { "'$process'" } else { "'$process' '$(Join-Path $PSHOME 'pwsh.dll')'" }
        $output = & unshare --mount --propagation private sh -c "$Mounts && exec $pwsh -NoProfile -NonInteractive -File '$file'" 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($output -join "`n")
        ($output -join "`n") | ConvertFrom-Json
    }

    # Whether this machine lets a test mount a file system in its own namespace (root with CAP_SYS_ADMIN).
    function Test-CanMount {
        if (-not $IsLinux -or -not (Get-Command unshare -ErrorAction Ignore)) { return $false }
        $probe = Join-Path $TestDrive 'probe'
        $null = New-Item -ItemType Directory -Path $probe -Force
        & unshare --mount --propagation private sh -c "mount -t tmpfs -o ro,size=4k none '$probe'" 2>$null
        $LASTEXITCODE -eq 0
    }
}

Describe 'Path and LiteralPath' -Tag 'Conventions' {
    BeforeAll {
        # Names with wildcard characters: as -Path they are patterns, as -LiteralPath names.
        $folder = Join-Path $TestDrive 'brackets'
        $null = New-Item -ItemType Directory -Path $folder
        $bracketed = Join-Path $folder 'm[1].safetensors'
        Copy-Item -LiteralPath $CpShard -Destination $bracketed
        $expectedNames = @((Read-IndependentTensors $CpShard).Keys)
    }

    It 'has a Path and a LiteralPath parameter set on <_>, LiteralPath with the PSPath and LP aliases' -ForEach 'Get-SafeTensor', 'Test-SafeTensor', 'Export-SafeTensor' {
        $command = Get-Command $_
        $command.ParameterSets.Name | Should -Be @('Path', 'LiteralPath')
        $command.DefaultParameterSet | Should -Be 'Path'
        $command.Parameters['LiteralPath'].Aliases | Should -Contain 'PSPath'
        $command.Parameters['LiteralPath'].Aliases | Should -Contain 'LP'
    }

    It 'reads a file whose name has [ ] through -LiteralPath' {
        $handles = Get-SafeTensor -LiteralPath $bracketed
        $handles.Name | Sort-Object | Should -Be ($expectedNames | Sort-Object)
    }

    It 'says so when a -Path wildcard matches nothing, instead of returning nothing silently' {
        $handles = Get-SafeTensor -Path $bracketed -ErrorVariable failures -ErrorAction SilentlyContinue
        $handles | Should -BeNullOrEmpty
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'PathNotFound,ChatVector.PowerShell.Cmdlets.GetSafeTensorCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failures[0].Exception.Message | Should -BeLike '*-LiteralPath*'
    }

    It 'reports a missing path as PathNotFound and goes on with the next one' {
        $handles = Get-SafeTensor (Join-Path $TestDrive 'absent'), $CpShard -ErrorVariable failures -ErrorAction SilentlyContinue
        $handles.Count | Should -Be $expectedNames.Count
        $failures[0].FullyQualifiedErrorId | Should -Be 'PathNotFound,ChatVector.PowerShell.Cmdlets.GetSafeTensorCommand'
        $failures[0].TargetObject | Should -Be (Join-Path $TestDrive 'absent')
    }

    It 'expands wildcards in -Path' {
        (Get-SafeTensor (Join-Path $Tiny 'cp/model-0000[12]-*.safetensors')).Count |
            Should -Be ((Read-IndependentTensors (Join-Path $Tiny 'cp/model-00001-of-00003.safetensors')).Count +
                (Read-IndependentTensors (Join-Path $Tiny 'cp/model-00002-of-00003.safetensors')).Count)
    }

    It 'binds Get-ChildItem output to -LiteralPath, so bracketed names work through the pipeline' {
        $handles = Get-ChildItem -LiteralPath $folder | Get-SafeTensor
        $handles.Name | Sort-Object | Should -Be ($expectedNames | Sort-Object)
        (Get-ChildItem -LiteralPath $folder | Test-SafeTensor).Valid | Should -BeTrue
    }

    It 'validates through -LiteralPath, and reports the unmatched -Path pattern as not found' {
        (Test-SafeTensor -LiteralPath $bracketed).Valid | Should -BeTrue
        $report = Test-SafeTensor -Path $bracketed
        $report.Valid | Should -BeFalse
        $report.Problems[0].Rule | Should -Be 'FileNotFound'
    }

    It 'exports to a name with [ ] through -LiteralPath' {
        $target = Join-Path $TestDrive 'out[1].safetensors'
        Get-SafeTensor -LiteralPath $CpShard | Export-SafeTensor -LiteralPath $target
        Test-Path -LiteralPath $target | Should -BeTrue
        (Read-IndependentTensors $target).Keys | Sort-Object | Should -Be ($expectedNames | Sort-Object)
    }

    It 'refuses an export -Path pattern that matches nothing, and writes nothing' {
        $target = Join-Path $TestDrive 'new[2].safetensors'
        { Get-SafeTensor -LiteralPath $CpShard | Export-SafeTensor -Path $target } |
            Should -Throw -ErrorId 'PathNotFound,ChatVector.PowerShell.Cmdlets.ExportSafeTensorCommand'
        Get-ChildItem -LiteralPath $TestDrive -Filter 'new*' -Force | Should -BeNullOrEmpty
    }

    It 'takes model-folder parameters (-Base, -Chat, -Model) as written: one model, no wildcards' {
        $base = Join-Path $TestDrive 'base[1]'
        Copy-Item -LiteralPath (Join-Path $Tiny 'base') -Destination $base -Recurse
        (Get-ChatVector -Base $base -Chat (Join-Path $Tiny 'chat') -Name 'model.norm.weight').Name | Should -Be 'model.norm.weight'
        { Get-ChatVector -Base (Join-Path $Tiny 'bas?') -Chat (Join-Path $Tiny 'chat') } |
            Should -Throw -ErrorId 'PathNotFound,ChatVector.PowerShell.Cmdlets.GetChatVectorCommand'
    }
}

Describe 'Error ids and categories per cause' -Tag 'Conventions' {
    It 'names a pickle checkpoint passed as a file for what it is' {
        $pickle = Join-Path $TestDrive 'pytorch_model.bin'
        # protocol-2 pickle of an empty dict: PROTO 2, EMPTY_DICT, BINPUT 0, STOP
        [IO.File]::WriteAllBytes($pickle, [byte[]](0x80, 0x02, 0x7D, 0x71, 0x00, 0x2E, 0x0A, 0x0A, 0x0A))
        $null = Get-SafeTensor -LiteralPath $pickle -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures[0].FullyQualifiedErrorId | Should -Be 'NotSafeTensors,ChatVector.PowerShell.Cmdlets.GetSafeTensorCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $failures[0].Exception.Message | Should -BeLike "*pytorch_model.bin: this is not a safetensors file (it looks like a Python pickle*safe_serialization=True*"
        $failures[0].Exception.Message | Should -Not -BeLike '*header claims*'
    }

    It 'names a zip checkpoint (what torch.save writes) for what it is' {
        $zip = Join-Path $TestDrive 'model.pt'
        Compress-Archive -LiteralPath $CpShard -DestinationPath (Join-Path $TestDrive 'model.zip')
        Move-Item -LiteralPath (Join-Path $TestDrive 'model.zip') -Destination $zip
        $report = Test-SafeTensor -LiteralPath $zip
        $report.Problems[0].Rule | Should -Be 'NotSafeTensors'
        $report.Problems[0].Message | Should -BeLike '*(it looks like a zip archive, which is what torch.save writes*'
    }

    It 'names a text file for what it is' {
        $text = Join-Path $TestDrive 'config.safetensors'
        Set-Content -LiteralPath $text -Value '{ "architectures": ["LlamaForCausalLM"] }'
        { Get-ChatVector -Base $text -Chat (Join-Path $Tiny 'chat') } |
            Should -Throw -ErrorId 'NotSafeTensors,ChatVector.PowerShell.Cmdlets.GetChatVectorCommand' -ExpectedMessage '*this is not a safetensors file (it looks like a text file)*'
    }

    It 'still reports a broken safetensors header by its rule' {
        $broken = Join-Path $TestDrive 'broken.safetensors'
        [IO.File]::WriteAllBytes($broken, [BitConverter]::GetBytes([long]5000) + [Text.Encoding]::UTF8.GetBytes('{}'))
        (Test-SafeTensor -LiteralPath $broken).Problems[0].Rule | Should -Be 'HeaderBeyondFile'
    }

    It 'says ExportInProgress (ResourceBusy) only while another export holds the lock' {
        $target = Join-Path $TestDrive 'locked'
        $lock = [IO.FileStream]::new((Join-Path $TestDrive '.locked.lock'), 'OpenOrCreate', 'ReadWrite', 'None')
        try {
            $failure = { Get-SafeTensor (Join-Path $Tiny 'cp') | Export-SafeTensor $target } |
                Should -Throw -ErrorId 'ExportInProgress,ChatVector.PowerShell.Cmdlets.ExportSafeTensorCommand' -PassThru
            $failure.CategoryInfo.Category | Should -Be 'ResourceBusy'
        }
        finally { $lock.Dispose() }
        Test-Path -LiteralPath $target | Should -BeFalse
    }

    It 'says PermissionDenied when the target folder may not be written (not "another export is in progress")' {
        # Root may write anywhere except where the kernel refuses: sysfs takes no new files, even from root.
        if (-not $IsLinux -or -not (Test-Path -LiteralPath '/sys/kernel')) { Set-ItResult -Skipped -Because 'needs Linux sysfs'; return }
        $failure = { Get-SafeTensor (Join-Path $Tiny 'cp') | Export-SafeTensor '/sys/kernel/chatvector-test' } |
            Should -Throw -ErrorId 'PermissionDenied,ChatVector.PowerShell.Cmdlets.ExportSafeTensorCommand' -PassThru
        $failure.CategoryInfo.Category | Should -Be 'PermissionDenied'
        $failure.Exception.Message | Should -Not -BeLike '*in progress*'
    }

    It 'says PermissionDenied for a file that may not be read (a read failure is not a WriteFailed)' {
        # A write-only sysfs attribute: even root gets EACCES when opening it for reading.
        $writeOnly = if ($IsLinux) { '/sys/bus/pci/rescan', '/sys/kernel/uevent_helper' | Where-Object { Test-Path -LiteralPath $_ } |
            Where-Object { (Get-Item -LiteralPath $_).UnixFileMode -notmatch 'UserRead' } | Select-Object -First 1 }
        if (-not $writeOnly) { Set-ItResult -Skipped -Because 'needs a write-only sysfs file'; return }
        $null = Get-SafeTensor -LiteralPath $writeOnly -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures[0].FullyQualifiedErrorId | Should -Be 'PermissionDenied,ChatVector.PowerShell.Cmdlets.GetSafeTensorCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
    }

    It 'says TargetReadOnly on a read-only file system and NoSpace on a full one, leaving nothing behind' {
        if (-not (Test-CanMount)) { Set-ItResult -Skipped -Because 'needs unshare and mount (root with CAP_SYS_ADMIN)'; return }
        $readOnly = Join-Path $TestDrive 'ro'
        $full = Join-Path $TestDrive 'full'
        $null = New-Item -ItemType Directory -Path $readOnly, $full
        $results = Invoke-InMountNamespace -Mounts "mount -t tmpfs -o ro,size=64k none '$readOnly' && mount -t tmpfs -o size=16k none '$full'" -Script @"
`$results = foreach (`$target in '$readOnly/out', '$full/out') {
    try { Get-SafeTensor '$(Join-Path $Tiny 'cp')' | Export-SafeTensor `$target -ErrorAction Stop; @{ Id = 'none' } }
    catch { @{ Id = `$_.FullyQualifiedErrorId; Category = "`$(`$_.CategoryInfo.Category)"; Message = "`$_"; Left = @(Get-ChildItem -Force -LiteralPath (Split-Path `$target)).Count } }
}
`$results | ConvertTo-Json -Compress
"@
        $results[0].Id | Should -Be 'TargetReadOnly,ChatVector.PowerShell.Cmdlets.ExportSafeTensorCommand'
        $results[0].Category | Should -Be 'PermissionDenied'
        $results[0].Message | Should -Not -BeLike '*in progress*'
        $results[1].Id | Should -Be 'NoSpace,ChatVector.PowerShell.Cmdlets.ExportSafeTensorCommand'
        $results[1].Category | Should -Be 'WriteError'
        $results[1].Left | Should -Be 0
    }
}

Describe 'Tab completion of tensor names' -Tag 'Conventions' {
    It 'completes -Name of Get-SafeTensor from the folder given to -Path' {
        $offered = Get-Completion "Get-SafeTensor '$(Join-Path $Tiny 'cp')' -Name model.layers.1.self_attn."
        $expected = (Read-IndependentTensors (Join-Path $Tiny 'cp')).Keys | Where-Object { $_ -like 'model.layers.1.self_attn.*' } | Sort-Object
        $offered.CompletionText | Should -Be $expected
        $offered[0].ToolTip | Should -BeLike "$($expected[0]) BF16 ``[*``]"
    }

    It 'completes -Exclude of Get-SafeTensor from a file given to -LiteralPath' {
        $offered = Get-Completion "Get-SafeTensor -LiteralPath '$CpShard' -Exclude "
        $offered.CompletionText | Sort-Object | Should -Be ((Read-IndependentTensors $CpShard).Keys | Sort-Object)
    }

    It 'completes -Include of Export-LoraAdapter from -Base, not from -Path (the adapter it writes)' {
        $offered = Get-Completion "Export-LoraAdapter '$(Join-Path $TestDrive 'new-adapter')' -Base '$(Join-Path $Tiny 'base')' -Include model.n"
        $offered.CompletionText | Should -Be 'model.norm.weight'
    }

    It 'completes -Name and -Exclude of Get-ChatVector from the base model, relative to the current location' {
        Push-Location $Tiny
        try {
            (Get-Completion 'Get-ChatVector -Base base -Chat chat -Name model.n').CompletionText | Should -Be 'model.norm.weight'
            (Get-Completion 'Get-ChatVector base chat -Exclude lm_').CompletionText | Should -Be 'lm_head.weight'
        }
        finally { Pop-Location }
    }

    It 'offers nothing (and no error) when no model is bound yet' {
        Get-Completion 'Get-SafeTensor -Name model.' | Should -BeNullOrEmpty
    }
}

Describe 'Progress' -Tag 'Conventions' {
    It 'Test-SafeTensor -Data reports progress while it reads the data, then completes' {
        $records = Get-ProgressRecord "Test-SafeTensor '$(Join-Path $Tiny 'cp')' -Data"
        $processing = @($records | Where-Object RecordType -eq 'Processing')
        $processing.Count | Should -BeGreaterThan 0
        $processing[0].Activity | Should -BeLike 'Test-SafeTensor *cp'
        $processing[0].PercentComplete | Should -BeIn (0..100)
        $records[-1].RecordType | Should -Be 'Completed'
    }

    It 'Test-SafeTensor without -Data reads headers only and reports no progress' {
        Get-ProgressRecord "Test-SafeTensor '$(Join-Path $Tiny 'cp')'" | Should -BeNullOrEmpty
    }

    It 'Measure-ChatVector reports progress as tensors arrive, then completes' {
        $records = Get-ProgressRecord "Get-SafeTensor '$(Join-Path $Tiny 'cp')' | Measure-ChatVector -Summary"
        $processing = @($records | Where-Object RecordType -eq 'Processing')
        $processing.Count | Should -BeGreaterThan 0
        $processing[0].Activity | Should -Be 'Measure-ChatVector'
        $processing[0].StatusDescription | Should -BeLike '1 tensors measured*'
        $records[-1].RecordType | Should -Be 'Completed'
    }
}

Describe 'Views fit 80 columns' -Tag 'Conventions' {
    BeforeAll {
        $vectors = Get-ChatVector -Base (Join-Path $Tiny 'base') -Chat (Join-Path $Tiny 'chat')
        # A long path and a broken file, so Path and Problems columns have something wide to show.
        $deep = Join-Path $TestDrive ('a-rather-long-folder-name-' * 3)
        $null = New-Item -ItemType Directory -Path $deep
        $bad = Join-Path $deep 'pytorch_model.safetensors'
        [IO.File]::WriteAllBytes($bad, [byte[]](0x80, 0x02, 0x7D, 0x71, 0x00, 0x2E, 0x0A, 0x0A, 0x0A))
    }

    It 'shows tensor handles in 80 columns with Name, DType, Shape, Bytes and Kind' {
        $handles = Get-SafeTensor (Join-Path $Tiny 'cp')
        Get-LongLine $handles | Should -BeNullOrEmpty
        $text = $handles | Out-String -Width 80
        $text | Should -Match '(?m)^Name\s+DType\s+Shape\s+Bytes\s+Kind\s*$'
        $text | Should -Match '\[80, 32\]'
        # the distinguishing ends of long names survive
        $text | Should -Match 'layers\.1\.post_attention_layernorm\.weight|layers\.1\.post.*\u2026.*norm\.weight'
    }

    It 'shows Measure-ChatVector per tensor and -Summary in 80 columns with the key statistics' {
        foreach ($records in @(($vectors | Measure-ChatVector), ($vectors | Measure-ChatVector -Summary -Reference (Join-Path $Tiny 'chat')))) {
            Get-LongLine $records | Should -BeNullOrEmpty
            ($records | Out-String -Width 80) | Should -Match '(?m)^Name\s+L2Norm\s+RelNorm\s+Cosine\s+MaxAbs\s+Zero%\s+NaN/Inf\s*$'
        }
        $summary = $vectors | Measure-ChatVector -Summary -Reference (Join-Path $Tiny 'chat') | Out-String -Width 80
        $summary | Should -Match '(?m)^layer 0\s+\d'
        $summary | Should -Match '(?m)^21 tensors\s+\S+\s+\S+\s+-?\d\.\d{4}\s'
    }

    It 'shows Test-SafeTensor reports in 80 columns with Valid, Tensors, Problems and Path' {
        $reports = Test-SafeTensor (Join-Path $Tiny 'cp'), $bad -Data
        Get-LongLine $reports | Should -BeNullOrEmpty
        $text = $reports | Out-String -Width 80
        $text | Should -Match '(?m)^Valid\s+Files\s+Tensors\s+Checksums\s+Problems\s+Path\s*$'
        $text | Should -Match 'False.*NotSafeTensors.*pytorch_model\.safetensors'
    }

    It 'keeps lists (previews, problems, runtime) within 80 columns' {
        Get-LongLine (Get-SafeTensor (Join-Path $Tiny 'cp') -Name 'model.embed_tokens.weight' | Show-SafeTensor -Count 30) | Should -BeNullOrEmpty
        Get-LongLine (Test-SafeTensor $bad).Problems | Should -BeNullOrEmpty
        Get-LongLine (Get-ChatVectorRuntime) | Should -BeNullOrEmpty
    }
}

Describe 'Output objects serialize cleanly' -Tag 'Conventions' {
    BeforeAll {
        $cp = Join-Path $Tiny 'cp'
        $vectors = Get-ChatVector -Base (Join-Path $Tiny 'base') -Chat (Join-Path $Tiny 'chat')
        $bad = Join-Path $TestDrive 'bad.safetensors'
        [IO.File]::WriteAllBytes($bad, [byte[]](1, 2, 3))
        $outputs = [ordered]@{
            'stored handle'        = Get-SafeTensor $cp
            'vector handle'        = $vectors
            'merged handle'        = $vectors | Add-ChatVector -Model $cp
            'Test-SafeTensor'      = Test-SafeTensor $cp, $bad -Data
            'Measure per tensor'   = $vectors | Measure-ChatVector
            'Measure -Summary'     = $vectors | Measure-ChatVector -Summary
            'Show-SafeTensor'      = Get-SafeTensor $cp -Name 'model.norm.weight' | Show-SafeTensor
            'Get-ChatVectorRuntime' = Get-ChatVectorRuntime
        }
    }

    It 'converts <Kind> to JSON without internals' -ForEach @(
        @{ Kind = 'stored handle' }, @{ Kind = 'vector handle' }, @{ Kind = 'merged handle' }, @{ Kind = 'Test-SafeTensor' },
        @{ Kind = 'Measure per tensor' }, @{ Kind = 'Measure -Summary' }, @{ Kind = 'Show-SafeTensor' }, @{ Kind = 'Get-ChatVectorRuntime' }) {
        $json = $outputs[$Kind] | ConvertTo-Json -Depth 6 -WarningAction Stop
        $back = $json | ConvertFrom-Json
        @($back).Count | Should -Be @($outputs[$Kind]).Count
        foreach ($internal in 'Source', 'Context', 'Provenance', 'Info') {
            @($back)[0].PSObject.Properties.Name | Should -Not -Contain $internal
        }
    }

    It 'exports <Kind> to CSV with no .NET type names for values' -ForEach @(
        @{ Kind = 'stored handle' }, @{ Kind = 'vector handle' }, @{ Kind = 'merged handle' }, @{ Kind = 'Test-SafeTensor' },
        @{ Kind = 'Measure per tensor' }, @{ Kind = 'Measure -Summary' }, @{ Kind = 'Show-SafeTensor' }, @{ Kind = 'Get-ChatVectorRuntime' }) {
        Get-TypeNameCell $outputs[$Kind] | Should -BeNullOrEmpty
    }

    It 'gives Shape both as an array and as text' {
        $handle = $outputs['stored handle'] | Where-Object Name -eq 'model.embed_tokens.weight'
        $json = $handle | ConvertTo-Json | ConvertFrom-Json
        $json.Shape | Should -Be @(80, 32)
        $json.ShapeText | Should -Be '[80, 32]'
        ($handle | ConvertTo-Csv | ConvertFrom-Csv).Shape | Should -Be '[80, 32]'
        $handle.Shape[1] | Should -Be 32
    }

    It 'exports Test-SafeTensor problems to CSV as their messages' {
        $row = Test-SafeTensor $bad | ConvertTo-Csv | ConvertFrom-Csv
        $row.Valid | Should -Be 'False'
        $row.Problems | Should -BeLike "$bad*FileTooShort*"
    }
}
