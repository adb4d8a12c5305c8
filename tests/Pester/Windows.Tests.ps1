# What a scheduled merge on a Windows server depends on, tested on every OS: paths as PowerShell hands them
# over, names Windows cannot hold, and output bytes that do not depend on the platform.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $trio = New-TestTrio (Join-Path $TestDrive 'trio')
}

Describe 'Export-SafeTensor targets as PowerShell completes them' -Tag 'Windows' {
    It 'writes a folder named with a trailing separator (tab completion''s ./m/) as that folder, and -Force replaces it' {
        $work = Join-Path $TestDrive 'slash'
        $null = New-Item -ItemType Directory $work
        $completed = (Join-Path $work 'm') + [IO.Path]::DirectorySeparatorChar
        Get-SafeTensor $trio.Cp | Export-SafeTensor $completed
        Get-SafeTensor $trio.Chat | Export-SafeTensor $completed -Force
        @(Get-ChildItem -Force $work).Name | Should -Be @('m')
        @(Get-ChildItem -Force (Join-Path $work 'm') | Where-Object Name -Like '.*') | Should -BeNullOrEmpty
        (Test-SafeTensor (Join-Path $work 'm')).Tensors | Should -Be $trio.ChatValues.Count
    }
}

Describe 'Names Windows cannot hold are refused on every OS' -Tag 'Windows' {
    It 'refuses an export to <Name> with InvalidArgument naming it, and writes nothing' -ForEach @(
        @{ Name = 'NUL.safetensors' }, @{ Name = 'com1.safetensors' }, @{ Name = 'aux' }
    ) {
        $work = Join-Path $TestDrive "device-$Name"
        $null = New-Item -ItemType Directory $work
        $failure = { Get-SafeTensor $trio.Cp | Export-SafeTensor (Join-Path $work $Name) } |
            Should -Throw -ErrorId 'InvalidArgument,ChatVector.PowerShell.Cmdlets.ExportSafeTensorCommand' -PassThru
        # (Older Windows resolves the path itself to the device, \\.\NUL: the device is named either way.)
        $failure.Exception.Message | Should -BeLike "*is the Windows device name $($Name.Split('.')[0].ToUpperInvariant()),*"
        @(Get-ChildItem -Force $work) | Should -BeNullOrEmpty
    }

    It 'refuses a model whose index names a shard ending in a dot, with NonPortableName naming the index' {
        $model = Join-Path $TestDrive 'dotted'
        Copy-Item -Recurse $trio.Cp $model
        $index = Join-Path $model 'model.safetensors.index.json'
        $text = [IO.File]::ReadAllText($index) -replace 'model-00002-of-00002\.safetensors', 'model-00002-of-00002.safetensors.'
        [IO.File]::WriteAllText($index, $text)
        $null = Get-SafeTensor $model -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures[0].FullyQualifiedErrorId | Should -Be 'NonPortableName,ChatVector.PowerShell.Cmdlets.GetSafeTensorCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $failures[0].Exception.Message | Should -BeLike "*model.safetensors.index.json*'model-00002-of-00002.safetensors.'*ends with a dot or a space*"
    }
}

Describe 'A saved vector read where its recorded chat model is not' -Tag 'Windows' {
    It 'asks for -ChatModel when -SpecialTokenMap needs the chat model the vector records, and merges once it is given' {
        $work = Join-Path $TestDrive 'moved'
        $chat = Join-Path $work 'chat'
        $null = New-Item -ItemType Directory $work
        Copy-Item -Recurse $trio.Chat $chat
        $saved = Join-Path $work 'vector.safetensors'
        Get-ChatVector $trio.Base $chat | Export-SafeTensor $saved
        Rename-Item $chat 'chat-elsewhere' # as if saved on another machine: the recorded path is not here

        $out = Join-Path $work 'merged'
        $failure = $null
        try { Get-SafeTensor $saved | Add-ChatVector -Model $trio.Cp -SpecialTokenMap @{ 41 = 7 } -ErrorVariable problems -ErrorAction SilentlyContinue | Export-SafeTensor $out }
        catch { $failure = $_ }
        $failure.FullyQualifiedErrorId | Should -Be 'MergeNotPossible,ChatVector.PowerShell.Cmdlets.AddChatVectorCommand'
        $problems[0].FullyQualifiedErrorId | Should -Be 'MergeProblem,ChatVector.PowerShell.Cmdlets.AddChatVectorCommand'
        $problems[0].Exception.Message | Should -BeLike "*'$chat', which does not exist here*-ChatModel*"
        $out | Should -Not -Exist

        Get-SafeTensor $saved | Add-ChatVector -Model $trio.Cp -SpecialTokenMap @{ 41 = 7 } -ChatModel (Join-Path $work 'chat-elsewhere') | Export-SafeTensor $out
        (Test-SafeTensor $out).Tensors | Should -Be $trio.CpValues.Count
    }
}

Describe 'A server''s culture changes nothing written' -Tag 'Windows' {
    # LC_ALL sets a Linux process's culture, for every thread; Windows ignores it, so the child also sets
    # the culture itself (then worker threads take the default thread culture).
    It 'under <Culture>, a saved vector''s ratio, the merged model''s recipe and card, and (de-DE) the help say 0.5' -ForEach @(
        @{ Culture = 'de-DE'; Locale = 'de_DE.UTF-8'; Help = $true }, @{ Culture = 'tr-TR'; Locale = 'tr_TR.UTF-8'; Help = $false }
    ) {
        $out = Join-Path $TestDrive "culture-$Culture"
        $child = Invoke-ChildPwsh -Environment @{ LC_ALL = $Locale; LANG = $Locale; CV_CULTURE = $Culture; CV_BASE = $trio.Base; CV_CHAT = $trio.Chat; CV_CP = $trio.Cp; CV_OUT = $out; CV_HELP = "$Help" } -Script @'
$ErrorActionPreference = 'Stop'
[cultureinfo]::CurrentCulture = [cultureinfo]::DefaultThreadCurrentCulture = [cultureinfo]::GetCultureInfo($env:CV_CULTURE)
"culture=$((Get-Culture).Name) sample=$((0.5).ToString())"
Import-Module ./ChatVector.psd1
$vector = Join-Path $env:CV_OUT 'vector.safetensors'
Get-ChatVector $env:CV_BASE $env:CV_CHAT -Ratio 0.5 | Export-SafeTensor $vector
Get-SafeTensor $vector | Add-ChatVector -Model $env:CV_CP | Export-SafeTensor (Join-Path $env:CV_OUT 'merged')
# Help is built by the build machine, in its culture (slow: one culture covers the decimal comma).
if ($env:CV_HELP -eq 'True') { & ./build/New-ModuleHelp.ps1 -OutputPath (Join-Path $env:CV_OUT 'help') }
'@
        $child.ExitCode | Should -Be 0 -Because $child.Text
        $child.Text | Should -BeLike "*culture=$Culture sample=0,5*" -Because 'the child must really run under the culture'

        $vector = [ChatVector.TestKit.Independent.IndependentSafeTensorReader]::new((Join-Path $out 'vector.safetensors'))
        $vector.Metadata['chatvector.ratio'] | Should -Be '0.5'
        $merged = Join-Path $out 'merged'
        $shard = Get-ChildItem $merged -Filter '*.safetensors' | Select-Object -First 1
        ([ChatVector.TestKit.Independent.IndependentSafeTensorReader]::new($shard.FullName)).Metadata['chatvector.recipe'] | Should -BeLike '*"ratio":0.5,*'
        Get-Content -Raw (Join-Path $merged 'README.md') | Should -BeLike '*ratio 0.5 ×*"ratio": 0.5,*'
        if (-not $Help) { return }
        $maml = Get-Content -Raw (Get-ChildItem (Join-Path $out 'help') -Recurse -Filter 'ChatVector.PowerShell.dll-Help.xml' | Select-Object -First 1).FullName
        $maml | Should -BeLike '*<dev:defaultValue>0.15</dev:defaultValue>*'
        $maml | Should -Not -BeLike '*<dev:defaultValue>0,*'
    }
}

Describe 'A clone on Windows has the bytes a clone on Linux has' -Tag 'Windows' {
    It 'pins every tracked file''s line ends in .gitattributes (LF text, binary weights), whatever core.autocrlf says' {
        if (-not (Get-Command git -ErrorAction Ignore) -or -not (Test-Path (Join-Path $RepoRoot '.git'))) {
            Set-ItResult -Skipped -Because 'needs git and a clone of the repository'; return
        }
        # One line per tracked file: index and work-tree line ends, then the attributes that decide checkout.
        $unpinned = git -C $RepoRoot ls-files --eol | Where-Object { $_ -notmatch "attr/(-text|text=auto eol=lf|text eol=crlf)\s*`t" }
        $unpinned | Should -BeNullOrEmpty -Because 'a file without eol pinned is rewritten by a Windows checkout with autocrlf'
        git -C $RepoRoot check-attr text -- examples/tiny/cp/model-00001-of-00003.safetensors | Should -Be 'examples/tiny/cp/model-00001-of-00003.safetensors: text: unset'
        git -C $RepoRoot check-attr eol -- examples/tiny/cp/config.json | Should -Be 'examples/tiny/cp/config.json: eol: lf'
    }
}

Describe 'Where the tokenizers library is not shipped (win-x64 today)' -Tag 'Windows' {
    BeforeAll {
        # A copy of the module without libhf_tokenizers, as a Windows server has it (hard links on Linux:
        # the libtorch natives are hundreds of MB).
        $copy = Join-Path $TestDrive 'module-without-tokenizers'
        $null = New-Item -ItemType Directory $copy
        Copy-Item (Join-Path $RepoRoot 'ChatVector.psd1') $copy
        if ($IsLinux) { & cp -al (Join-Path $RepoRoot 'module') (Join-Path $copy 'module') }
        else { Copy-Item -Recurse (Join-Path $RepoRoot 'module') (Join-Path $copy 'module') }
        Get-ChildItem (Join-Path $copy 'module/bin/deps') -Filter '*hf_tokenizers*' | Remove-Item
        $environment = @{ CV_MODULE = (Join-Path $copy 'ChatVector.psd1'); CV_TINY = $Tiny; CV_OUT = (Join-Path $TestDrive 'special-by-text') }
    }

    It 'Invoke-ChatVectorModel -TokenIds returns the generated ids without text, with a warning saying why' {
        $child = Invoke-ChildPwsh -Environment $environment -Script @'
Import-Module $env:CV_MODULE
$result = Invoke-ChatVectorModel -Model (Join-Path $env:CV_TINY 'chat') -TokenIds 1, 2, 3 -MaxNewTokens 3 -WarningVariable warnings 3>$null
"ids=$($result.TokenIds.Count) text=$($null -eq $result.Text)"
"warning=$warnings"
'@
        $child.ExitCode | Should -Be 0 -Because $child.Text
        $child.Output | Should -Contain 'ids=3 text=True'
        ($child.Output | Where-Object { $_ -like 'warning=*' }) | Should -BeLike '*chat: the generated token ids are returned without text: *hf_tokenizers*linux-x64 only*'
    }

    It 'Invoke-ChatVectorModel -Prompt fails with TokenizerLibraryMissing (NotInstalled), pointing to -TokenIds' {
        $child = Invoke-ChildPwsh -Environment $environment -Script @'
Import-Module $env:CV_MODULE
$null = Invoke-ChatVectorModel -Model (Join-Path $env:CV_TINY 'chat') -Prompt 'hello' -ErrorVariable failures -ErrorAction SilentlyContinue
$failures[0].FullyQualifiedErrorId; "$($failures[0].CategoryInfo.Category)"; $failures[0].Exception.Message
'@
        $child.Output[0] | Should -Be 'TokenizerLibraryMissing,ChatVector.PowerShell.Cmdlets.InvokeChatVectorModelCommand'
        $child.Output[1] | Should -Be 'NotInstalled'
        $child.Output[2] | Should -BeLike '*tokenizer.json: *hf_tokenizers*-TokenIds*'
    }

    It 'Add-ChatVector -SpecialToken looks the ids up in tokenizer.json itself' {
        $child = Invoke-ChildPwsh -Environment $environment -Script @'
$ErrorActionPreference = 'Stop'
Import-Module $env:CV_MODULE
Get-ChatVector (Join-Path $env:CV_TINY 'base') (Join-Path $env:CV_TINY 'chat') |
    Add-ChatVector -Model (Join-Path $env:CV_TINY 'cp') -SpecialToken '<|eot_id|>' | Export-SafeTensor $env:CV_OUT
'@
        $child.ExitCode | Should -Be 0 -Because $child.Text
        # The id computed here from the example's tokenizer.json, not by the module.
        $added = (Get-Content -Raw (Join-Path $Tiny 'chat/tokenizer.json') | ConvertFrom-Json).added_tokens | Where-Object content -EQ '<|eot_id|>'
        $card = Get-Content -Raw (Join-Path $TestDrive 'special-by-text/README.md')
        $card.Contains("``<|eot_id|>`` (model id $($added.id) ← chat id $($added.id))") | Should -BeTrue -Because $card
    }
}

Describe 'Export-SafeTensor -Force over a model another process has open' -Tag 'Windows' {
    It 'says FileInUse (ResourceBusy) naming the open file before writing anything, and leaves the model as it was' {
        $work = Join-Path $TestDrive 'in-use'
        $null = New-Item -ItemType Directory $work
        $model = Join-Path $work 'm'
        Get-SafeTensor $trio.Cp | Export-SafeTensor $model
        $shard = Get-ChildItem $model -Filter '*.safetensors' | Select-Object -First 1
        $before = [IO.File]::ReadAllBytes($shard.FullName)
        # A reader holding the shard, as a server does (on Linux, .NET's lock is what shows).
        $reader = [IO.FileStream]::new($shard.FullName, 'Open', 'Read', 'Read')
        try {
            $failure = { Get-SafeTensor $trio.Chat | Export-SafeTensor $model -Force } |
                Should -Throw -ErrorId 'FileInUse,ChatVector.PowerShell.Cmdlets.ExportSafeTensorCommand' -PassThru
        }
        finally { $reader.Dispose() }
        $failure.CategoryInfo.Category | Should -Be 'ResourceBusy'
        $failure.Exception.Message | Should -BeLike "*$model is in use: $($shard.FullName) is open in another process*"
        $failure.Exception.Message | Should -Not -BeLike '*Choose a folder you may write to*'
        [IO.File]::ReadAllBytes($shard.FullName) | Should -Be $before
        @(Get-ChildItem -Force $work).Name | Should -Be @('m')
    }

    It 'deletes what an earlier export left beside the target (a crashed staging, an old target), silently when it can' {
        $work = Join-Path $TestDrive 'leftovers'
        $null = New-Item -ItemType Directory $work
        $null = New-Item -ItemType Directory (Join-Path $work '.m.old-0123456789abcdef')
        Set-Content (Join-Path $work '.m.partial-fedcba9876543210') 'crashed export'
        Get-SafeTensor $trio.Cp | Export-SafeTensor (Join-Path $work 'm') -WarningVariable warnings
        $warnings | Should -BeNullOrEmpty
        @(Get-ChildItem -Force $work).Name | Should -Be @('m')
    }
}
