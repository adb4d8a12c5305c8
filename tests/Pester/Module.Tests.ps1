# The module as a user imports it. Run through ./build.ps1 -Test (a child pwsh, so the loaded DLLs do not
# lock the next build), or Invoke-Pester tests/Pester after a build.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
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

Describe 'Chat vector pipeline on the shipped tiny models' {
    BeforeAll {
                $out = Join-Path $TestDrive 'merged'
    }

    It 'inspects a sharded folder' {
        $handles = Get-SafeTensor (Join-Path $tiny 'cp')
        $handles.Count | Should -Be 21
        ($handles | Where-Object Name -eq 'model.embed_tokens.weight').Shape | Should -Be @(80, 32)
    }

    It 'accepts paths by property name' {
        (Get-ChildItem (Join-Path $tiny 'cp') -Filter *.safetensors | Get-SafeTensor).Count | Should -Be 21
    }

    It 'merges into a valid, complete folder with the chat template' {
        Get-ChatVector -Base (Join-Path $tiny 'base') -Chat (Join-Path $tiny 'chat') |
            Add-ChatVector -Model (Join-Path $tiny 'cp') -Ratio 0.5 |
            Export-SafeTensor $out -MaxShardSize 40KB -Checksum
        (Test-SafeTensor $out -Data).ChecksumsVerified | Should -Be 21
        (Get-Content (Join-Path $out 'tokenizer_config.json') -Raw | ConvertFrom-Json).eos_token | Should -Be '<|eot_id|>'
    }

    It 'refuses an existing target without -Force' {
        { Get-SafeTensor (Join-Path $tiny 'cp') | Export-SafeTensor $out -ErrorAction Stop } |
            Should -Throw -ErrorId 'WriteFailed,ChatVector.PowerShell.Cmdlets.ExportSafeTensorCommand'
    }

    It 'reports a bad file without throwing' {
        $bad = Join-Path $TestDrive 'bad.safetensors'
        [IO.File]::WriteAllBytes($bad, [byte[]](1, 2, 3))
        Test-SafeTensor $bad -Quiet | Should -BeFalse
        (Test-SafeTensor $bad).Problems[0].Rule | Should -Be 'FileTooShort'
    }
}
