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
