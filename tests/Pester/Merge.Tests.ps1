# The method end to end: Get-ChatVector (chat - base), Add-ChatVector (cp + ratio * vector) and
# Export-SafeTensor (streaming the handles into a file or a sharded folder). Every expectation is computed
# here from the values the independent builder wrote, and the output is read back by the independent reader.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $trio = New-TestTrio (Join-Path $TestDrive 'trio')
    $VocabNames = 'model.embed_tokens.weight', 'lm_head.weight'

    # True when two values are at most one bf16 unit in the last place apart.
    function Test-Bf16Close([double] $Actual, [float] $Expected) {
        $a = [ChatVector.TestKit.Independent.Bf16]::FromFloat([float]$Actual)
        $e = [ChatVector.TestKit.Independent.Bf16]::FromFloat($Expected)
        [ChatVector.TestKit.Independent.Bf16]::UlpDistance($a, $e) -le 1
    }

    # cp + ratio * (chat - base) in float32, element $i of tensor $Name.
    function Get-MergedValue([string] $Name, [int] $i, [float] $Ratio, $Chat = $trio.ChatValues) {
        [float]($trio.CpValues[$Name][$i] + [float]($Ratio * [float]($Chat[$Name][$i] - $trio.BaseValues[$Name][$i])))
    }

    # The elements of $Actual (by name) that are not within one bf16 ulp of $Expected (a scriptblock of name and index).
    function Get-Bf16Mismatches($Actual, [scriptblock] $Expected) {
        foreach ($name in $trio.CpValues.Keys) {
            $values = $Actual[$name]
            for ($i = 0; $i -lt $values.Count; $i++) {
                if (-not (Test-Bf16Close $values[$i] (& $Expected $name $i))) { "$name[$i]: got $($values[$i]), expected $(& $Expected $name $i)" }
            }
        }
    }

    function Read-Json([string] $Path) { Get-Content $Path -Raw | ConvertFrom-Json }
}

Describe 'Get-ChatVector' -Tag 'Merge' {
    It 'emits chat - base for every tensor pair as float32 handles carrying their chat model' {
        $vectors = Get-ChatVector $trio.Base $trio.Chat
        $vectors.Name | Sort-Object | Should -Be ($trio.BaseValues.Keys | Sort-Object)
        $vectors.DType | Sort-Object -Unique | Should -Be 'F32'
        $vectors.Kind | Sort-Object -Unique | Should -Be 'ChatVector'
        $vectors.Model | Sort-Object -Unique | Should -Be $trio.Chat
        ($vectors | Where-Object Name -EQ model.norm.weight).Shape | Should -Be @(16)

        $saved = Join-Path $TestDrive 'vector.safetensors'
        $vectors | Export-SafeTensor $saved
        $written = Read-IndependentTensors $saved
        $name = 'model.layers.0.mlp.down_proj.weight'
        $expected = for ($i = 0; $i -lt $written[$name].Count; $i++) { [double][float]($trio.ChatValues[$name][$i] - $trio.BaseValues[$name][$i]) }
        $written[$name] | Should -Be $expected
    }

    It 'pairs only the tensors -Name matches, minus -Exclude' {
        $names = (Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Name 'model.layers.1.*' -Exclude '*layernorm*').Name
        $names | Sort-Object | Should -Be ($trio.BaseValues.Keys | Where-Object { $_ -like 'model.layers.1.*' -and $_ -notlike '*layernorm*' } | Sort-Object)
    }

    It 'puts -Ratio on every handle, and Add-ChatVector uses it over its own -Ratio' {
        $name = 'model.layers.0.self_attn.k_proj.weight'
        $vector = Get-ChatVector $trio.Base $trio.Chat -Name $name -Ratio 0.25
        $vector.Ratio | Should -Be 0.25
        (Get-ChatVector $trio.Base $trio.Chat -Name $name).Ratio | Should -BeNullOrEmpty

        $out = Join-Path $TestDrive 'quarter.safetensors'
        $vector | Add-ChatVector $trio.Cp -Ratio 1 | Where-Object Name -EQ $name | Export-SafeTensor $out
        $actual = (Read-IndependentTensors $out)[$name]
        $bad = for ($i = 0; $i -lt $actual.Count; $i++) { if (-not (Test-Bf16Close $actual[$i] (Get-MergedValue $name $i 0.25))) { $i } }
        $bad | Should -BeNullOrEmpty
    }

    It 'warns about tensors in only one model, naming them, and skips them' {
        $tied = Join-Path $TestDrive 'tied'
        $null = ([ChatVector.TestKit.LlamaModelBuilder]@{ Seed = 6; Vocab = 40; Tied = $true }).Write($tied)
        $names = (Get-ChatVector -Base $trio.Base -Chat $tied -WarningVariable warnings -WarningAction SilentlyContinue).Name
        $names | Should -Not -Contain 'lm_head.weight'
        $names.Count | Should -Be ($trio.BaseValues.Count - 1)
        "$warnings" | Should -BeLike '*only in the base model*lm_head.weight*'
    }

    It 'stops with a terminating error naming a model path that does not exist' {
        $missing = Join-Path $TestDrive 'no-such-chat'
        $record = { Get-ChatVector -Base $trio.Base -Chat $missing } | Should -Throw -PassThru
        $record.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $record.Exception.Message | Should -BeLike "*no-such-chat*"
    }
}

Describe 'Add-ChatVector' -Tag 'Merge' {
    It 'writes a complete, correct, sharded model: vector added, new vocabulary rows kept, special tokens from chat' {
        $merged = Join-Path $TestDrive 'merged'
        $stream = Get-ChatVector -Base $trio.Base -Chat $trio.Chat |
            Add-ChatVector -Model $trio.Cp -Ratio 0.5 -SpecialTokenMap @{ 42 = 5 } -Verbose 4>&1
        $verbose = $stream | Where-Object { $_ -is [Management.Automation.VerboseRecord] }
        "$verbose" | Should -BeLike '*extended vocabulary*'
        $handles = $stream | Where-Object { $_ -isnot [Management.Automation.VerboseRecord] }
        $handles.Name | Sort-Object | Should -Be ($trio.CpValues.Keys | Sort-Object)
        $handles | Export-SafeTensor $merged -MaxShardSize 6KB -Checksum

        (Get-ChildItem $merged -Filter *.safetensors).Count | Should -BeGreaterThan 1
        $written = Read-IndependentTensors $merged
        $written.Keys | Sort-Object | Should -Be ($trio.CpValues.Keys | Sort-Object)
        Get-Bf16Mismatches $written {
            param($name, $i)
            $vocab = $name -in $VocabNames
            if ($vocab -and [Math]::Floor($i / 16) -eq 42) { $trio.ChatValues[$name][5 * 16 + $i % 16] }  # special token: chat's row 5
            elseif ($vocab -and $i -ge 40 * 16) { $trio.CpValues[$name][$i] }                             # rows only cp has
            else { Get-MergedValue $name $i 0.5 }
        } | Should -BeNullOrEmpty

        $tokenizer = Read-Json (Join-Path $merged 'tokenizer_config.json')
        $tokenizer.chat_template | Should -Be '{% for m in messages %}<|im_start|>{{ m.content }}<|im_end|>{% endfor %}'
        $tokenizer.eos_token | Should -Be '<|im_end|>'
        Join-Path $merged 'config.json' | Should -Exist
        Join-Path $merged 'model.safetensors.index.json' | Should -Exist
        Get-Content (Join-Path $merged 'README.md') -Raw | Should -BeLike '*Chat Vector*'

        $report = Test-SafeTensor $merged -Data
        $report.Valid | Should -BeTrue
        $report.ChecksumsVerified | Should -Be $trio.CpValues.Count
    }

    It 'with -SkipEmbedding keeps the embedding and LM head as the model''s' {
        $out = Join-Path $TestDrive 'skip-embedding'
        Get-ChatVector $trio.Base $trio.Chat | Add-ChatVector -Model $trio.Cp -SkipEmbedding | Export-SafeTensor $out
        $bytes = Read-IndependentBytes $out
        foreach ($name in $VocabNames) {
            [Linq.Enumerable]::SequenceEqual($bytes[$name], [ChatVector.TestKit.TensorBytes]::Bf16($trio.CpValues[$name])) | Should -BeTrue -Because $name
        }
        $name = 'model.layers.1.self_attn.v_proj.weight'
        $actual = (Read-IndependentTensors $out)[$name]
        $bad = for ($i = 0; $i -lt $actual.Count; $i++) { if (-not (Test-Bf16Close $actual[$i] (Get-MergedValue $name $i 1))) { $i } }
        $bad | Should -BeNullOrEmpty
    }

    It 'with -DType F32 writes float32 tensors and says so in config.json' {
        $out = Join-Path $TestDrive 'f32'
        $name = 'model.layers.0.self_attn.o_proj.weight'
        Get-ChatVector $trio.Base $trio.Chat | Add-ChatVector -Model $trio.Cp -DType F32 | Export-SafeTensor $out
        $reader = [ChatVector.TestKit.Independent.IndependentSafeTensorReader]::ReadFolder($out)
        $reader[$name].Item2.DType | Should -Be 'F32'
        $actual = (Read-IndependentTensors $out)[$name]
        $worst = 0
        for ($i = 0; $i -lt $actual.Count; $i++) { $worst = [Math]::Max($worst, [Math]::Abs($actual[$i] - (Get-MergedValue $name $i 1))) }
        $worst | Should -BeLessThan 1e-7
        (Read-Json (Join-Path $out 'config.json')).torch_dtype | Should -Be 'float32'
    }

    It 'takes the special-token rows from -ChatModel' {
        $other = Join-Path $TestDrive 'other-chat'
        $otherValues = ([ChatVector.TestKit.LlamaModelBuilder]@{ Seed = 14; Vocab = 40 }).Write($other)
        $out = Join-Path $TestDrive 'other-rows'
        Get-ChatVector $trio.Base $trio.Chat | Add-ChatVector -Model $trio.Cp -SpecialTokenMap @{ 41 = 7 } -ChatModel $other | Export-SafeTensor $out
        $row = (Read-IndependentTensors $out)['model.embed_tokens.weight'][(41 * 16)..(41 * 16 + 15)]
        $row | Should -Be ($otherValues['model.embed_tokens.weight'][(7 * 16)..(7 * 16 + 15)] | ForEach-Object { [double]$_ })
    }

    It 'takes the chat template and eos token from -ChatTemplateFrom' {
        $out = Join-Path $TestDrive 'template'
        $source = Join-Path $Tiny 'chat'
        Get-ChatVector $trio.Base $trio.Chat | Add-ChatVector -Model $trio.Cp -ChatTemplateFrom $source | Export-SafeTensor $out
        $expected = Read-Json (Join-Path $source 'tokenizer_config.json')
        $tokenizer = Read-Json (Join-Path $out 'tokenizer_config.json')
        $tokenizer.chat_template | Should -Be $expected.chat_template
        $tokenizer.eos_token | Should -Be '<|eot_id|>'
    }

    It 'passes every tensor through unchanged, with a warning, when no vector arrives' {
        $out = Join-Path $TestDrive 'unchanged'
        @() | Add-ChatVector -Model $trio.Cp -WarningVariable warnings -WarningAction SilentlyContinue | Export-SafeTensor $out
        "$warnings" | Should -BeLike '*No vector arrived*'
        $bytes = Read-IndependentBytes $out
        foreach ($name in $trio.CpValues.Keys) {
            [Linq.Enumerable]::SequenceEqual($bytes[$name], [ChatVector.TestKit.TensorBytes]::Bf16($trio.CpValues[$name])) | Should -BeTrue -Because $name
        }
    }

    It 'refuses a model''s own weights as vectors, as Merge-ChatVector does, naming each, and emits nothing' {
        $emitted = @()
        $addErrors = $mergeErrors = $null
        $stops = @()
        try { Get-SafeTensor $trio.Chat -Name 'model.norm.weight' | Add-ChatVector -Model $trio.Cp -ErrorVariable addErrors -ErrorAction SilentlyContinue | ForEach-Object { $emitted += $_ } }
        catch { $stops += $_.FullyQualifiedErrorId }
        try { Get-SafeTensor $trio.Chat -Name 'model.norm.weight' | Merge-ChatVector slerp -Model $trio.Base -Parameter @{ t = 0.5 } -ErrorVariable mergeErrors -ErrorAction SilentlyContinue | ForEach-Object { $emitted += $_ } }
        catch { $stops += $_.FullyQualifiedErrorId }
        $stops | Should -Be @('AddNotPossible,ChatVector.PowerShell.Cmdlets.AddChatVectorCommand', 'MergeNotPossible,ChatVector.PowerShell.Cmdlets.MergeChatVectorCommand')
        $emitted.Count | Should -Be 0
        foreach ($errors in $addErrors, $mergeErrors) {
            ($errors | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] -and "$_" -like "*'model.norm.weight' (Stored*is not a chat vector*" }) | Should -Not -BeNullOrEmpty
        }
    }

    It 'refuses a -SpecialTokenMap entry that is not a pair of token ids' {
        { Get-ChatVector $trio.Base $trio.Chat | Add-ChatVector -Model $trio.Cp -SpecialTokenMap @{ eos = 5 } } |
            Should -Throw -ErrorId 'InvalidArgument,ChatVector.PowerShell.Cmdlets.AddChatVectorCommand' -ExpectedMessage '*-SpecialTokenMap*'
    }

    It 'merges a saved vector bit-identically to the live pipeline' {
        $cv = Join-Path $TestDrive 'cv'
        $live = Join-Path $TestDrive 'live'
        $saved = Join-Path $TestDrive 'saved'
        Get-ChatVector -Base $trio.Base -Chat $trio.Chat | Export-SafeTensor $cv -MaxShardSize 8KB
        Get-ChatVector -Base $trio.Base -Chat $trio.Chat | Add-ChatVector -Model $trio.Cp -Ratio 0.5 | Export-SafeTensor $live
        Get-SafeTensor $cv | Add-ChatVector -Model $trio.Cp -Ratio 0.5 | Export-SafeTensor $saved

        $vector = [ChatVector.TestKit.Independent.IndependentSafeTensorReader]::ReadFolder($cv)
        $vector.Values.Item2.DType | Sort-Object -Unique | Should -Be 'F32'
        $metadata = @($vector.Values)[0].Item1.Metadata
        $metadata['chatvector.chat_template'] | ConvertFrom-Json | Should -Be '{% for m in messages %}<|im_start|>{{ m.content }}<|im_end|>{% endfor %}'
        $metadata['chatvector.chat'] | Should -BeLike '*chat'

        $liveBytes = Read-IndependentBytes $live
        $savedBytes = Read-IndependentBytes $saved
        $liveBytes.Count | Should -Be $trio.CpValues.Count
        foreach ($name in $liveBytes.Keys) { [Linq.Enumerable]::SequenceEqual($liveBytes[$name], $savedBytes[$name]) | Should -BeTrue -Because $name }
        (Read-Json (Join-Path $saved 'tokenizer_config.json')).chat_template | Should -Be '{% for m in messages %}<|im_start|>{{ m.content }}<|im_end|>{% endfor %}'
    }
}

Describe 'Export-SafeTensor' -Tag 'Merge' {
    It 'writes a subset to one file and reshards a folder; both read back byte for byte' {
        $layer0 = Join-Path $TestDrive 'layer0.safetensors'
        $resharded = Join-Path $TestDrive 'resharded'
        Get-SafeTensor $trio.Cp -Name 'model.layers.0.*' | Export-SafeTensor $layer0
        Get-SafeTensor $trio.Cp | Export-SafeTensor $resharded -MaxShardSize 3KB

        $names = (Get-SafeTensor $layer0).Name
        $names.Count | Should -Be 9
        $names | ForEach-Object { $_ | Should -BeLike 'model.layers.0.*' }
        (Get-ChildItem $resharded -Filter *.safetensors).Count | Should -BeGreaterOrEqual 4
        $bytes = Read-IndependentBytes $resharded
        foreach ($name in $trio.CpValues.Keys) {
            [Linq.Enumerable]::SequenceEqual($bytes[$name], [ChatVector.TestKit.TensorBytes]::Bf16($trio.CpValues[$name])) | Should -BeTrue -Because $name
        }
        Join-Path $resharded 'tokenizer.json' | Should -Exist
    }

    It 'with -WhatIf says what it would write and writes nothing; an existing target needs -Force, which replaces it' {
        $out = Join-Path $TestDrive 'whatif'
        # The What if: line goes to the host, so a child pwsh shows it as a user sees it.
        $child = Invoke-ChildPwsh -Environment @{ CV_MODEL = $trio.Cp; CV_OUT = $out } -Script @'
Import-Module ./ChatVector.psd1
Get-SafeTensor $env:CV_MODEL | Export-SafeTensor $env:CV_OUT -MaxShardSize 6KB -WhatIf
'@
        $child.ExitCode | Should -Be 0 -Because $child.Text
        $child.Text | Should -BeLike "*What if: *Write $($trio.CpValues.Count) tensors*model-00001-of-0000*model.safetensors.index.json*tokenizer_config.json*$out*"
        $out | Should -Not -Exist

        $null = New-Item -ItemType Directory $out
        $record = { Get-SafeTensor $trio.Cp | Export-SafeTensor $out } | Should -Throw -PassThru
        $record.CategoryInfo.Category | Should -Be 'WriteError'
        $record.Exception.Message | Should -BeLike '*-Force*'
        Join-Path $out 'config.json' | Should -Not -Exist

        Get-SafeTensor $trio.Cp | Export-SafeTensor $out -Force
        Join-Path $out 'config.json' | Should -Exist
        (Test-SafeTensor $out).Tensors | Should -Be $trio.CpValues.Count
    }

    It 'with -Force replaces a model folder, not a folder of other files, which stays as it was' {
        $folder = Join-Path $TestDrive 'notes'
        $null = New-Item -ItemType Directory $folder
        Set-Content (Join-Path $folder 'notes.txt') 'keep me'
        { Get-SafeTensor $trio.Cp | Export-SafeTensor $folder -Force } | Should -Throw -ExpectedMessage '*holds files but no model*-Force replaces a model folder*'
        Get-Content (Join-Path $folder 'notes.txt') | Should -Be 'keep me'
        @(Get-ChildItem -Force $folder).Count | Should -Be 1
    }

    It 'refuses a target that ends with a separator and in .safetensors: a folder or a file is not ours to guess' {
        $target = Join-Path $TestDrive 'trailing.safetensors'
        { Get-SafeTensor $trio.Cp | Export-SafeTensor "$target/" } | Should -Throw -ExpectedMessage '*ends with a separator*drop the separator*'
        Test-Path $target | Should -BeFalse
    }

    It 'with -PassThru outputs the written folder or file' {
        $folder = Get-SafeTensor $trio.Cp | Export-SafeTensor (Join-Path $TestDrive 'passthru') -PassThru
        $folder | Should -BeOfType [IO.DirectoryInfo]
        $folder.FullName | Should -Be (Join-Path $TestDrive 'passthru')
        $file = Get-SafeTensor $trio.Cp -Name model.norm.weight | Export-SafeTensor (Join-Path $TestDrive 'norm.safetensors') -PassThru
        $file | Should -BeOfType [IO.FileInfo]
        $file.Length | Should -BeGreaterThan 32
        Get-SafeTensor $trio.Cp | Export-SafeTensor (Join-Path $TestDrive 'quiet') | Should -BeNullOrEmpty
    }

    It 'adds -Metadata entries, as strings, to every file' {
        $out = Join-Path $TestDrive 'metadata'
        # format 'pt' is what the header holds anyway: accepted; a file's value is its path.
        Get-SafeTensor $trio.Cp | Export-SafeTensor $out -MaxShardSize 6KB -Metadata @{ note = 'hello'; step = 3; format = 'pt'; source = (Get-Item $trio.Cp) }
        $files = Get-ChildItem $out -Filter *.safetensors
        $files.Count | Should -BeGreaterThan 1
        foreach ($file in $files) {
            $metadata = [ChatVector.TestKit.Independent.IndependentSafeTensorReader]::new($file.FullName).Metadata
            $metadata['note'] | Should -Be 'hello'
            $metadata['step'] | Should -Be '3'
            $metadata['format'] | Should -Be 'pt'
            $metadata['source'] | Should -Be (Get-Item $trio.Cp).FullName
        }
    }

    It 'refuses -Metadata values with no one text form, and the header''s own format key, writing nothing' -ForEach @(
        @{ Case = 'a list'; Metadata = @{ tags = @('a', 'b') }; Expected = "*-Metadata 'tags' is a list; safetensors metadata values are text*" }
        @{ Case = 'a table'; Metadata = @{ cfg = @{ x = 1 } }; Expected = "*-Metadata 'cfg' is a table*" }
        @{ Case = 'format'; Metadata = @{ format = 'tf' }; Expected = "*-Metadata 'format' is the safetensors header's own entry*" }
    ) {
        $out = Join-Path $TestDrive "metadata-refused-$([guid]::NewGuid().ToString('N'))"
        { Get-SafeTensor $trio.Cp | Export-SafeTensor $out -Metadata $Metadata } | Should -Throw -ExpectedMessage $Expected -ErrorId 'InvalidArgument,ChatVector.PowerShell.Cmdlets.ExportSafeTensorCommand'
        Test-Path $out | Should -BeFalse
    }

    It 'with -Verify reads the result back and verifies its checksums' {
        $out = Join-Path $TestDrive 'verified'
        $verbose = Get-SafeTensor $trio.Cp | Export-SafeTensor $out -Verify -Verbose 4>&1
        "$verbose" | Should -BeLike "*verified $($trio.CpValues.Count) of $($trio.CpValues.Count) tensor checksums*"
    }

    It 'refuses a -MaxShardSize that is not a size' {
        $failure = { Get-SafeTensor $trio.Cp | Export-SafeTensor (Join-Path $TestDrive 'badsize') -MaxShardSize 'lots' } |
            Should -Throw -ErrorId 'InvalidArgument,ChatVector.PowerShell.Cmdlets.ExportSafeTensorCommand' -PassThru
        $failure.TargetObject | Should -Be 'lots'
        "$failure" | Should -Be "-MaxShardSize 'lots' is not a size; write it like 5GB, 500MB, 2GiB or a number of bytes."
        Join-Path $TestDrive 'badsize' | Should -Not -Exist
    }

    It 'refuses an unknown -Device before writing' {
        { Get-ChatVector $trio.Base $trio.Chat | Add-ChatVector -Model $trio.Cp | Export-SafeTensor (Join-Path $TestDrive 'tpu') -Device tpu } |
            Should -Throw -ErrorId 'DeviceUnavailable,ChatVector.PowerShell.Cmdlets.ExportSafeTensorCommand'
        Join-Path $TestDrive 'tpu' | Should -Not -Exist
    }

    It 'writes nothing and says so when no tensor arrives' {
        $out = Join-Path $TestDrive 'empty'
        Get-SafeTensor $trio.Cp -Name 'no.such.*' | Export-SafeTensor $out -WarningVariable warnings -WarningAction SilentlyContinue
        "$warnings" | Should -BeLike '*No tensors arrived*'
        $out | Should -Not -Exist
    }

    It 'reports progress in tensors and bytes, and completes it' {
        $ps = New-ModulePowerShell
        try {
            $null = $ps.AddScript('param($b, $c, $cp, $out) Get-ChatVector -Base $b -Chat $c | Add-ChatVector -Model $cp | Export-SafeTensor $out').
                AddArgument($trio.Base).AddArgument($trio.Chat).AddArgument($trio.Cp).AddArgument((Join-Path $TestDrive 'progress')).Invoke()
            $ps.HadErrors | Should -BeFalse
            $progress = @($ps.Streams.Progress)
            $progress | Should -Not -BeNullOrEmpty
            $progress.StatusDescription | Where-Object { $_ -like '* tensors, * of *' } | Should -Not -BeNullOrEmpty
            $progress[-1].RecordType | Should -Be 'Completed'
        }
        finally { $ps.Dispose() }
    }

    It 'leaves nothing behind when the pipeline is stopped mid-export' {
        $root = Join-Path $TestDrive 'stop'
        $model = Join-Path $root 'model'
        $null = ([ChatVector.TestKit.LlamaModelBuilder]@{ Seed = 3; Vocab = 1024; Hidden = 512; Intermediate = 1408; Layers = 8; Shards = 2 }).Write($model) # ~60 MB
        $target = Join-Path $root 'copy'
        $ps = New-ModulePowerShell
        try {
            $null = $ps.AddScript('param($m, $t) Get-SafeTensor $m | Export-SafeTensor $t -MaxShardSize 4MB -Checksum').AddArgument($model).AddArgument($target)
            $running = $ps.BeginInvoke()
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            # Stop as soon as the export has started writing into its staging folder.
            while (-not [IO.Directory]::Exists($target) -and -not [IO.Directory]::EnumerateDirectories($root, '.copy.partial-*').GetEnumerator().MoveNext() -and [DateTime]::UtcNow -lt $deadline) {
                [Threading.Thread]::Sleep(1)
            }
            $ps.Stop()
            try { $null = $ps.EndInvoke($running) } catch [Management.Automation.PipelineStoppedException] { }
        }
        finally { $ps.Dispose() }

        Get-ChildItem $root -Force | Where-Object Name -Like '.*' | Should -BeNullOrEmpty
        # Either the stop came in time and there is no target, or the export had already completed.
        if (Test-Path $target) { (Read-IndependentBytes $target).Count | Should -Be (8 * 9 + 3) }
    }
}

Describe 'Merge bytes on any CPU' -Tag 'Merge' {
    # README promises the same bytes on every machine. libtorch and .NET each pick their SIMD code by the CPU they find;
    # ATEN_CPU_CAPABILITY=default and DOTNET_EnableAVX=0 make this machine take the portable code of both (no AVX2
    # kernels in libtorch, 128-bit vectors in .NET), as a CPU without AVX would. On a CPU without AVX2 both runs are alike.
    It 'writes the same bytes with libtorch''s and .NET''s portable SIMD code as with this CPU''s own' {
        $script = @'
Import-Module ./ChatVector.psd1
$b = $env:CV_BASE; $c = $env:CV_CHAT; $cp = $env:CV_CP; $out = $env:CV_OUT
Get-ChatVector $b $c | Add-ChatVector -Model $cp -Ratio 0.3 | Export-SafeTensor (Join-Path $out 'plain')
Get-ChatVector $b $c | Add-ChatVector -Model $cp -Ratio 0.3 -DType F16 | Export-SafeTensor (Join-Path $out 'half')
$trimmed = Get-ChatVector $b $c -Ratio 0.7 | Limit-ChatVector 0.5
$dropped = Get-ChatVector $b $c -Ratio 0.6 | Limit-ChatVector 0.4 -Method Random -Seed 3
@($trimmed) + @($dropped) | Add-ChatVector -Model $cp -Consensus Sum -Normalize | Export-SafeTensor (Join-Path $out 'ties')
Get-ChatVector $b $c -Ratio 0.9 | Limit-ChatVector 0.3 -Method Della -Seed 5 | Add-ChatVector -Model $cp -DType F32 | Export-SafeTensor (Join-Path $out 'della')
"vector-width=$([System.Numerics.Vector[float]]::Count)"
'@
        $paths = @{ CV_BASE = $trio.Base; CV_CHAT = $trio.Chat; CV_CP = $trio.Cp }
        $native = Invoke-ChildPwsh -Script $script -Environment ($paths + @{ CV_OUT = (Join-Path $TestDrive 'native'); ATEN_CPU_CAPABILITY = $null; DOTNET_EnableAVX = $null })
        $portable = Invoke-ChildPwsh -Script $script -Environment ($paths + @{ CV_OUT = (Join-Path $TestDrive 'portable'); ATEN_CPU_CAPABILITY = 'default'; DOTNET_EnableAVX = '0' })
        $native.ExitCode | Should -Be 0 -Because $native.Text
        $portable.ExitCode | Should -Be 0 -Because $portable.Text
        foreach ($merge in 'plain', 'half', 'ties', 'della') {
            $expected = Read-IndependentBytes (Join-Path $TestDrive "native/$merge")
            $actual = Read-IndependentBytes (Join-Path $TestDrive "portable/$merge")
            $actual.Keys | Sort-Object | Should -Be ($expected.Keys | Sort-Object)
            $differing = $expected.Keys | Where-Object { -not [Linq.Enumerable]::SequenceEqual($actual[$_], $expected[$_]) }
            $differing | Should -BeNullOrEmpty -Because "$merge ($($native.Output[-1]) natively, $($portable.Output[-1]) portable)"
        }
    }
}
