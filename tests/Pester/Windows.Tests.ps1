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
        $failure.Exception.Message | Should -BeLike "*'$Name' is the Windows device name*"
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

        $vector = [ChatVector.Tests.Shared.IndependentSafeTensorReader]::new((Join-Path $out 'vector.safetensors'))
        $vector.Metadata['chatvector.ratio'] | Should -Be '0.5'
        $merged = Join-Path $out 'merged'
        $shard = Get-ChildItem $merged -Filter '*.safetensors' | Select-Object -First 1
        ([ChatVector.Tests.Shared.IndependentSafeTensorReader]::new($shard.FullName)).Metadata['chatvector.recipe'] | Should -BeLike '*"ratio":0.5,*'
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
