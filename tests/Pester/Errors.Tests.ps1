# What a user sees when something fails: an ErrorRecord with an id, a category, the target, and a message that
# names the file and the problem in the user's terms, never the text of an internal exception (a JSON library's,
# a null reference...). Each pipeline runs as a user runs it, with the default $ErrorActionPreference.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    # A user's session has the default; build.ps1 runs the suites under 'Stop', which would turn every
    # non-terminating error here into a terminating one.
    $script:ErrorActionPreference = 'Continue'
    $script:trio = New-TestTrio -Root (Join-Path $TestDrive 'trio')
    # A second chat model of the same shapes: its vector has the same tensor names as the trio's.
    $script:otherChat = Join-Path $TestDrive 'other-chat'
    $null = ([ChatVector.TestKit.LlamaModelBuilder]@{ Seed = 14; Vocab = 40 }).Write($otherChat)

    # Text that only an internal exception's message holds (type names, library wording, .NET argument suffixes).
    $script:InternalText = 'Newtonsoft', 'JObject', 'JToken', 'JsonReader', 'System.', 'Exception', 'StartArray',
        'Object reference', 'LineNumber:', 'BytePositionInLine', "(Parameter '", 'Actual value was'

    # The message the user sees (ErrorDetails when set, else the exception's).
    function Get-ShownMessage([System.Management.Automation.ErrorRecord] $Record) { "$Record" }

    function Assert-NoInternalText([string] $Message) {
        foreach ($text in $InternalText) { $Message | Should -Not -BeLike "*$([WildcardPattern]::Escape($text))*" -Because "'$Message' shows internal text" }
    }

    # Runs $Pipeline and returns the terminating ErrorRecord it throws (a test fails when nothing is thrown).
    function Get-TerminatingError([scriptblock] $Run) {
        try { & $Run | Out-Null } catch { return $_ }
        throw 'The pipeline did not fail.'
    }

    # A copy of a model folder under $TestDrive.
    function Copy-Model([string] $From, [string] $Name) {
        $copy = Join-Path $TestDrive $Name
        Copy-Item -LiteralPath $From -Destination $copy -Recurse
        $copy
    }

    # A .safetensors file with exactly this header text and $DataBytes zero bytes of data.
    function Write-RawSafeTensors([string] $Path, [string] $Header, [int] $DataBytes) {
        $headerBytes = [Text.Encoding]::UTF8.GetBytes($Header)
        [IO.File]::WriteAllBytes($Path, [BitConverter]::GetBytes([long]$headerBytes.Length) + $headerBytes + [byte[]]::new($DataBytes))
    }
}

Describe 'A tensor name that arrives twice at one export' -Tag 'Errors' {
    # With Limit-ChatVector between, or ratios that differ, the ratio and sparsification records (keyed by name)
    # were once built before the names were checked, and their JSON library's complaint reached the user.
    It 'is refused as DuplicateTensorName before anything is written (<Case>)' -ForEach @(
        @{ Case = 'two vectors'; Pipeline = { param($t, $c2) Get-ChatVector -Base $t.Base -Chat $t.Chat; Get-ChatVector -Base $t.Base -Chat $c2 } }
        @{ Case = 'two vectors, sparsified'; Pipeline = { param($t, $c2) @(Get-ChatVector -Base $t.Base -Chat $t.Chat; Get-ChatVector -Base $t.Base -Chat $c2) | Limit-ChatVector -Density 0.3 } }
        @{ Case = 'different ratios'; Pipeline = { param($t, $c2) Get-ChatVector $t.Base $t.Chat -Ratio 0.5; Get-ChatVector $t.Base $c2 -Ratio 0.7 } }
        @{ Case = 'different ratios, sparsified'; Pipeline = { param($t, $c2) @(Get-ChatVector $t.Base $t.Chat -Ratio 0.5; Get-ChatVector $t.Base $c2 -Ratio 0.7) | Limit-ChatVector -Density 0.3 } }
    ) {
        $folder = Join-Path $TestDrive "dup-$([guid]::NewGuid().ToString('N'))"
        $target = Join-Path $folder 'v'
        # An earlier export at the target: -Force must not lose it to an export that cannot happen.
        Get-ChatVector $trio.Base $trio.Chat | Export-SafeTensor $target
        $before = Get-ChildItem -LiteralPath $target | Get-FileHash | ForEach-Object { "$(Split-Path -Leaf $_.Path) $($_.Hash)" }

        $record = Get-TerminatingError { & $Pipeline $trio $otherChat | Export-SafeTensor $target -Force }

        $record.FullyQualifiedErrorId | Should -Be 'DuplicateTensorName,ChatVector.PowerShell.Cmdlets.ExportSafeTensorCommand'
        $record.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $record.TargetObject | Should -Be $target
        $message = Get-ShownMessage $record
        $message | Should -BeLike '*must be unique in one model*model.embed_tokens.weight*'
        Assert-NoInternalText $message
        Get-ChildItem -LiteralPath $target | Get-FileHash | ForEach-Object { "$(Split-Path -Leaf $_.Path) $($_.Hash)" } | Should -Be $before
        @(Get-ChildItem -Force -LiteralPath $folder).Name | Should -Be @('v') # no staging or lock file left
    }
}

Describe 'A malformed JSON side file' -Tag 'Errors' {
    It 'tokenizer_config.json that is cut short: SideFileInvalid naming the file and the line' {
        $chat = Copy-Model $trio.Chat 'cut-tokenizer-config'
        Set-Content (Join-Path $chat 'tokenizer_config.json') '{ "chat_template": '
        $record = Get-TerminatingError { Get-ChatVector -Base $trio.Base -Chat $chat }
        $record.FullyQualifiedErrorId | Should -Be 'SideFileInvalid,ChatVector.PowerShell.Cmdlets.GetChatVectorCommand'
        $record.CategoryInfo.Category | Should -Be 'InvalidData'
        $record.TargetObject | Should -Be $chat
        $message = Get-ShownMessage $record
        $message | Should -BeLike "*$(Join-Path $chat 'tokenizer_config.json')*is not valid JSON at line 2*"
        Assert-NoInternalText $message
    }

    It 'a broken base model is the target of Get-ChatVector''s error, not the chat model' {
        $base = Copy-Model $trio.Base 'cut-index-base'
        Set-Content (Join-Path $base 'model.safetensors.index.json') '{ "weight_map": '
        $record = Get-TerminatingError { Get-ChatVector -Base $base -Chat $trio.Chat }
        $record.FullyQualifiedErrorId | Should -Be 'IndexInvalid,ChatVector.PowerShell.Cmdlets.GetChatVectorCommand'
        $record.TargetObject | Should -Be $base
        Get-ShownMessage $record | Should -BeLike "*$(Join-Path $base 'model.safetensors.index.json')*not valid JSON at line 2*"
    }

    It 'generation_config.json that holds an array: SideFileInvalid saying an object belongs there' {
        $chat = Copy-Model $trio.Chat 'array-generation-config'
        Set-Content (Join-Path $chat 'generation_config.json') '[2]'
        $record = Get-TerminatingError { Get-ChatVector -Base $trio.Base -Chat $chat | Add-ChatVector -Model $trio.Base }
        $record.FullyQualifiedErrorId | Should -Be 'SideFileInvalid,ChatVector.PowerShell.Cmdlets.GetChatVectorCommand'
        $record.TargetObject | Should -Be $chat
        $message = Get-ShownMessage $record
        $message | Should -BeLike "*$(Join-Path $chat 'generation_config.json')*holds a JSON array where an object*"
        Assert-NoInternalText $message
    }

    It 'config.json (<Case>) at inference: SideFileInvalid naming the file' -ForEach @(
        @{ Case = 'cut short'; Text = '{ "architectures": ['; Expected = '*is not valid JSON at line 2*' }
        @{ Case = 'an array'; Text = '[1, 2]'; Expected = '*holds a JSON array where an object*' }
        @{ Case = 'a string'; Text = '"LlamaForCausalLM"'; Expected = '*holds a JSON string where an object*' }
    ) {
        $model = Copy-Model $trio.Chat "config-$([guid]::NewGuid().ToString('N'))"
        Set-Content (Join-Path $model 'config.json') $Text
        # One error per model, and the cmdlet goes on with the next (-Model takes several).
        $null = Invoke-ChatVectorModel -Model $model -TokenIds 1, 2 -MaxNewTokens 1 -ErrorVariable failures 2>$null
        $failures.Count | Should -Be 1
        $record = $failures[0]
        $record.FullyQualifiedErrorId | Should -Be 'SideFileInvalid,ChatVector.PowerShell.Cmdlets.InvokeChatVectorModelCommand'
        $record.CategoryInfo.Category | Should -Be 'InvalidData'
        $record.TargetObject | Should -Be $model
        $message = Get-ShownMessage $record
        $message | Should -BeLike "*$(Join-Path $model 'config.json')*"
        $message | Should -BeLike $Expected
        Assert-NoInternalText $message
    }

    It 'tokenizer_config.json of the model merged into, cut short: the export stops before its first byte' {
        # The export patches cp's tokenizer_config.json with the chat model's template: it reads (and checks) it
        # before writing, not after the last shard, and the error is the side file's, not the JSON library's.
        $cp = Copy-Model $trio.Cp 'cut-cp-tokenizer-config'
        Set-Content (Join-Path $cp 'tokenizer_config.json') '{ "chat_template": '
        $folder = Join-Path $TestDrive "cut-cp-out-$([guid]::NewGuid().ToString('N'))"
        $null = New-Item -ItemType Directory $folder
        $target = Join-Path $folder 'merged'
        $record = Get-TerminatingError { Get-ChatVector -Base $trio.Base -Chat $trio.Chat | Add-ChatVector -Model $cp | Export-SafeTensor $target }
        $record.FullyQualifiedErrorId | Should -Be 'SideFileInvalid,ChatVector.PowerShell.Cmdlets.ExportSafeTensorCommand'
        $record.CategoryInfo.Category | Should -Be 'InvalidData'
        $message = Get-ShownMessage $record
        $message | Should -BeLike "*$(Join-Path $cp 'tokenizer_config.json')*is not valid JSON at line 2*"
        Assert-NoInternalText $message
        Test-Path -LiteralPath $target | Should -BeFalse
        @(Get-ChildItem -Force -LiteralPath $folder) | Should -BeNullOrEmpty # no shard, staging folder or lock left
    }

    It 'config.json of the model merged into, cut short and copied as it is: the export stops before its first byte' {
        # Nothing patches config.json here (no -DType), but a folder with a broken one would look complete and not load.
        $cp = Copy-Model $trio.Cp 'cut-cp-config'
        Set-Content (Join-Path $cp 'config.json') '{"architectures": ['
        $target = Join-Path $TestDrive "cut-cp-config-out-$([guid]::NewGuid().ToString('N'))"
        $record = Get-TerminatingError { Get-ChatVector -Base $trio.Base -Chat $trio.Chat | Add-ChatVector -Model $cp | Export-SafeTensor $target }
        $record.FullyQualifiedErrorId | Should -Be 'SideFileInvalid,ChatVector.PowerShell.Cmdlets.ExportSafeTensorCommand'
        $message = Get-ShownMessage $record
        $message | Should -BeLike "*$(Join-Path $cp 'config.json')*is not valid JSON*"
        Assert-NoInternalText $message
        Test-Path -LiteralPath $target | Should -BeFalse
    }

    It 'model.safetensors.index.json that is cut short: IndexInvalid naming the file and the line' {
        $model = Copy-Model $trio.Cp 'cut-index'
        Set-Content (Join-Path $model 'model.safetensors.index.json') '{ "weight_map": {'
        $handles = Get-SafeTensor $model -ErrorVariable failures 2>$null
        $handles | Should -BeNullOrEmpty
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'IndexInvalid,ChatVector.PowerShell.Cmdlets.GetSafeTensorCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $failures[0].TargetObject | Should -Be $model
        $message = Get-ShownMessage $failures[0]
        $message | Should -BeLike "*$(Join-Path $model 'model.safetensors.index.json')*not valid JSON at line 2*"
        Assert-NoInternalText $message
    }

    It 'model.safetensors.index.json mapping a tensor to a number: names the JSON kind, not the library''s' {
        $model = Copy-Model $trio.Cp 'number-index'
        Set-Content (Join-Path $model 'model.safetensors.index.json') '{ "weight_map": { "model.norm.weight": 5 } }'
        $null = Get-SafeTensor $model -ErrorVariable failures 2>$null
        $failures[0].FullyQualifiedErrorId | Should -Be 'IndexInvalid,ChatVector.PowerShell.Cmdlets.GetSafeTensorCommand'
        $message = Get-ShownMessage $failures[0]
        $message | Should -BeLike "*maps 'model.norm.weight' to a number, not a file name*"
        $message | Should -Not -BeLike '*Integer*'
    }
}

Describe 'A safetensors header that is not valid JSON' -Tag 'Errors' {
    It '<Rule> for a header with <Case>, naming the file and where it breaks' -ForEach @(
        @{ Case = 'a comment'; Header = '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}/*x*/}'; Rule = 'HeaderNotJson'; Expected = '*the header is not strict JSON at line 1, byte *' }
        @{ Case = 'single quotes'; Header = "{'a':{'dtype':'U8','shape':[1],'data_offsets':[0,1]}}"; Rule = 'HeaderNotJson'; Expected = '*the header is not strict JSON at line 1, byte 2*' }
        @{ Case = 'a name twice'; Header = '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}'; Rule = 'DuplicateTensorName'; Expected = "*the header has the key 'a' twice*" }
        @{ Case = 'an array'; Header = '[1]'; Rule = 'HeaderNotObject'; Expected = '*the header is a JSON array, not an object*' }
    ) {
        $file = Join-Path $TestDrive "header-$([guid]::NewGuid().ToString('N')).safetensors"
        Write-RawSafeTensors $file $Header 2
        $null = Get-SafeTensor -LiteralPath $file -ErrorVariable failures 2>$null
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be "$Rule,ChatVector.PowerShell.Cmdlets.GetSafeTensorCommand"
        $failures[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $failures[0].TargetObject | Should -Be $file
        $message = Get-ShownMessage $failures[0]
        $message | Should -BeLike "*$file*"
        $message | Should -BeLikeExactly $Expected # the JSON kind in lower case, as the JSON specification names it
        Assert-NoInternalText $message
    }
}

Describe 'Files that go away or stand in the way' -Tag 'Errors' {
    It 'a model folder deleted after Get-SafeTensor: FileChanged naming the file' {
        $model = Copy-Model $trio.Base 'deleted-later'
        $handle = Get-SafeTensor $model -Name 'model.norm.weight'
        $file = $handle.File
        Remove-Item -LiteralPath $model -Recurse
        $null = $handle | Show-SafeTensor -ErrorVariable failures 2>$null
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'FileChanged,ChatVector.PowerShell.Cmdlets.ShowSafeTensorCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $failures[0].TargetObject | Should -Be 'model.norm.weight'
        $message = Get-ShownMessage $failures[0]
        $message | Should -BeLike "*$file*removed after it was opened*"
        Assert-NoInternalText $message
    }

    It 'an export target below a file: WriteFailed naming the file in the way' {
        $file = Join-Path $TestDrive 'a-file'
        Set-Content $file 'not a folder'
        $target = Join-Path $file 'model'
        $record = Get-TerminatingError { Get-SafeTensor $trio.Base | Export-SafeTensor $target }
        $record.FullyQualifiedErrorId | Should -Be 'WriteFailed,ChatVector.PowerShell.Cmdlets.ExportSafeTensorCommand'
        $record.CategoryInfo.Category | Should -Be 'WriteError'
        $record.TargetObject | Should -Be $target
        $message = Get-ShownMessage $record
        $message | Should -BeLike "*$target*$file is a file*"
        Assert-NoInternalText $message
        Get-Content $file | Should -Be 'not a folder'
    }
}

Describe 'Inputs of the wrong kind' -Tag 'Errors' {
    It 'Measure-ChatVectorModel -Path naming a folder: InvalidArgument saying so (not the system''s "access denied")' {
        $texts = Join-Path $TestDrive 'texts'
        New-Item -ItemType Directory $texts | Out-Null
        $record = Get-TerminatingError { Measure-ChatVectorModel -Model $trio.Chat -Path $texts }
        $record.FullyQualifiedErrorId | Should -Be 'InvalidArgument,ChatVector.PowerShell.Cmdlets.MeasureChatVectorModelCommand'
        $record.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $record.TargetObject | Should -Be $texts
        $message = Get-ShownMessage $record
        $message | Should -BeLike "$texts is a folder; -Path names text files*"
        Assert-NoInternalText $message
    }

    It 'Test-SafeTensor on a file that may not be read: the problem''s rule is PermissionDenied, not an exception type' {
        # A write-only sysfs attribute: even root gets EACCES when opening it for reading.
        $writeOnly = if ($IsLinux) { '/sys/bus/pci/rescan', '/sys/kernel/uevent_helper' | Where-Object { Test-Path -LiteralPath $_ } |
            Where-Object { (Get-Item -LiteralPath $_).UnixFileMode -notmatch 'UserRead' } | Select-Object -First 1 }
        if (-not $writeOnly) { Set-ItResult -Skipped -Because 'needs a write-only sysfs file'; return }
        $result = Test-SafeTensor -LiteralPath $writeOnly
        $result.Valid | Should -BeFalse
        $result.Problems.Count | Should -Be 1
        $result.Problems[0].Rule | Should -Be 'PermissionDenied'
        $result.Problems[0].File | Should -Be $writeOnly
        $result.Problems[0].Message | Should -BeLike "*$writeOnly*"
    }
}

Describe 'Parameter values and config text a user can get wrong' -Tag 'Errors' {
    BeforeAll {
        $script:configPath = Join-Path $TestDrive 'ta.yml'
        Set-Content -LiteralPath $configPath -Value "merge_method: task_arithmetic`nbase_model: $($trio.Base)`nmodels:`n  - model: $($trio.Chat)`n    parameters: {weight: 0.4}`n"
    }

    It 'Import-MergeConfig -Parameter <Case>: MergeConfigInvalid naming the parameter, nothing internal' -ForEach @(
        @{ Case = 'a null'; Value = @{ weight = $null }; Expected = "*-Parameter 'weight' has no value*" }
        @{ Case = 'an empty list'; Value = @{ weight = @() }; Expected = "*-Parameter 'weight' is an empty list*" }
        @{ Case = 'a list with text'; Value = @{ weight = @(0.1, 'x') }; Expected = "*a gradient is a list of numbers; 'x' is not one*" }
        @{ Case = 'one table'; Value = @{ weight = @{ filter = 'mlp'; value = 0.3 } }; Expected = '*is one table; a filter list is a list of them*' }
        @{ Case = 'an object'; Value = @{ weight = [pscustomobject]@{ a = 1 } }; Expected = "*-Parameter 'weight' is a PSCustomObject*" }
    ) {
        $record = Get-TerminatingError { Import-MergeConfig $configPath -Parameter $Value }
        $record.FullyQualifiedErrorId | Should -BeLike 'MergeConfigInvalid*'
        Get-ShownMessage $record | Should -BeLike $Expected
        Assert-NoInternalText (Get-ShownMessage $record)
    }

    It 'Import-MergeConfig -Parameter takes a filter list of tables, the first matching filter winning' {
        # The model gives no weight of its own (a model's value would win over the global one).
        $unweighted = Join-Path $TestDrive 'ta-unweighted.yml'
        Set-Content -LiteralPath $unweighted -Value "merge_method: task_arithmetic`nbase_model: $($trio.Base)`nmodels:`n  - model: $($trio.Chat)`n"
        $out = Join-Path $TestDrive 'filtered'
        Import-MergeConfig $unweighted -Parameter @{ weight = @(@{ filter = 'mlp'; value = 1.0 }, @{ Value = 0.0 }) } | Export-SafeTensor $out
        $written = Read-IndependentTensors $out
        $base = Read-IndependentTensors $trio.Base
        $chat = Read-IndependentTensors $trio.Chat
        $mlp = 'model.layers.0.mlp.up_proj.weight'
        $attention = 'model.layers.0.self_attn.q_proj.weight'
        # weight 1 under the filter: chat's values (base + 1·δ); weight 0 elsewhere: the base's.
        for ($i = 0; $i -lt 16; $i++) {
            $written[$mlp][$i] | Should -Be $chat[$mlp][$i]
            $written[$attention][$i] | Should -Be $base[$attention][$i]
        }
    }

    It 'Merge-ChatVector -Parameter with a null density: an error naming it, nothing internal' {
        $mergeErrors = $null
        $record = $null
        try { Get-ChatVector $trio.Base $trio.Chat | Merge-ChatVector ties -Model $trio.Base -Parameter @{ weight = 1; density = $null } -ErrorVariable mergeErrors -ErrorAction SilentlyContinue | Out-Null }
        catch { $record = $_ }
        $record | Should -Not -BeNullOrEmpty -Because 'the merge stops'
        Get-ShownMessage $record | Should -BeLike '*problem(s) stop the ties merge*nothing was emitted*'
        $problem = $mergeErrors | Where-Object { "$_" -like "*parameter 'density' must be a number; it is nothing*" }
        $problem | Should -Not -BeNullOrEmpty
        foreach ($shown in @($record) + @($mergeErrors | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })) { Assert-NoInternalText (Get-ShownMessage $shown) }
    }

    It 'YAML that the parser''s scanner rejects (an unclosed flow collection): MergeConfigInvalid saying so' {
        $bad = Join-Path $TestDrive 'unclosed.yml'
        Set-Content -LiteralPath $bad -Value "merge_method: [linear`nmodels: {"
        $record = Get-TerminatingError { Import-MergeConfig $bad }
        $record.FullyQualifiedErrorId | Should -BeLike 'MergeConfigInvalid*'
        Get-ShownMessage $record | Should -BeLike '*not valid YAML*'
        Assert-NoInternalText (Get-ShownMessage $record)
    }
}

Describe 'Not a failure' -Tag 'Errors' {
    # A `break` in a downstream script block reaches the producing cmdlet's WriteObject as an exception of
    # PowerShell's own; taken for a failure it became an error record and the loop went on.
    It 'a downstream break after <Case> ends the loop without an error' -ForEach @(
        @{ Case = 'Get-SafeTensor'; Producer = { param($t) Get-SafeTensor $t.Base } }
        @{ Case = 'Show-SafeTensor'; Producer = { param($t) Get-SafeTensor $t.Base -Name 'model.norm.weight' | Show-SafeTensor } }
        @{ Case = 'Measure-ChatVector'; Producer = { param($t) Get-ChatVector $t.Base $t.Chat -Name 'model.norm.weight' | Measure-ChatVector } }
    ) {
        $Error.Clear()
        $rounds = 0
        foreach ($round in 1..3) {
            $rounds++
            & $Producer $trio | ForEach-Object { break }
        }
        $rounds | Should -Be 1
        $Error.Count | Should -Be 0
    }
}

Describe 'A failure no check foresaw' -Tag 'Errors' {
    BeforeAll {
        # No input reaches such a failure once its check exists, so the test breaks a handle on purpose: its
        # tensor source, which nothing a user does can remove, is cleared by reflection.
        function Get-BrokenVector {
            $handle = Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Name 'model.norm.weight'
            $field = $handle.GetType().GetField('<Source>k__BackingField', [Reflection.BindingFlags]'Instance, NonPublic')
            $field | Should -Not -BeNullOrEmpty
            $field.SetValue($handle, $null)
            $handle
        }
    }

    It 'is a terminating UnexpectedFailure that says so plainly, keeping the internal detail for -Verbose and the inner exception' {
        $broken = Get-BrokenVector
        $verbose = [Collections.Generic.List[string]]::new()
        $record = Get-TerminatingError { $broken | Limit-ChatVector -Density 0.5 -Verbose 4>&1 | ForEach-Object { $verbose.Add("$_") } }
        $record.FullyQualifiedErrorId | Should -Be 'UnexpectedFailure,ChatVector.PowerShell.Cmdlets.LimitChatVectorCommand'
        $record.CategoryInfo.Category | Should -Be 'NotSpecified'
        $message = Get-ShownMessage $record
        $message | Should -BeLike '*Failed unexpectedly*ChatVector bug*-Verbose shows*'
        Assert-NoInternalText $message
        $record.Exception.InnerException | Should -BeOfType [NullReferenceException]
        "$verbose" | Should -BeLike '*NullReferenceException*'
    }
}
