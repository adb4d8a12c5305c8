#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Mirrors tests/ChatVector.Integration.Tests for a real pwsh: imports the built module as a user does.
# Run through ./build.ps1 -Test (a child pwsh, so the loaded DLLs do not lock the next build).

BeforeAll {
    $repo = Split-Path -Parent $PSScriptRoot
    Import-Module (Join-Path $repo 'ChatVector.psd1') -Force -ErrorAction Stop
}

AfterAll {
    Remove-Module ChatVector -ErrorAction SilentlyContinue
}

Describe 'ChatVector module' {
    It 'exports Get-ChatVectorRuntime' {
        (Get-Command -Module ChatVector).Name | Should -Contain 'Get-ChatVectorRuntime'
    }

    It 'loads the shipped libtorch and computes (bf16 -> float32 self-test)' {
        $info = Get-ChatVectorRuntime
        $info.SelfTest | Should -Be 'Passed'
        $info.SelfTestValue | Should -Be 22.5
        $info.Device | Should -Be 'cpu'
    }

    It 'rejects an unknown device with a terminating InvalidDevice error' {
        { Get-ChatVectorRuntime -Device tpu } |
            Should -Throw -ErrorId 'InvalidDevice,ChatVector.PowerShell.Cmdlets.GetChatVectorRuntimeCommand'
    }
}
