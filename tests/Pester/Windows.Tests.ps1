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
