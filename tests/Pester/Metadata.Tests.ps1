# Which metadata an output keeps (the carried-key list in Core/Export/CarriedMetadata.cs): provenance and
# recipe only, never what describes an input's own bytes; a vector's ratio is saved and read back.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    # Every file's __metadata__ in a folder, read by the independent reader, by file name.
    function Get-FileMetadata([string] $Folder) {
        $result = @{}
        foreach ($file in Get-ChildItem $Folder -Filter *.safetensors) {
            $result[$file.Name] = ([ChatVector.TestKit.Independent.IndependentSafeTensorReader]::new($file.FullName)).Metadata
        }
        $result
    }
}

Describe 'Checksums are never carried' -Tag 'Metadata' {
    BeforeAll {
        $checked = Join-Path $TestDrive 'checked'
        Get-SafeTensor (Join-Path $Tiny 'cp') | Export-SafeTensor $checked -MaxShardSize 40KB -Checksum
    }

    It 'a re-export without -Checksum records no checksum, and Test-SafeTensor -Data claims none' {
        $plain = Join-Path $TestDrive 'plain'
        Get-SafeTensor $checked | Export-SafeTensor $plain -MaxShardSize 20KB
        $metadata = Get-FileMetadata $plain
        $metadata.Count | Should -BeGreaterThan 1
        foreach ($file in $metadata.Keys) { $metadata[$file].ContainsKey('chatvector.xxh128') | Should -BeFalse -Because $file }
        $report = Test-SafeTensor $plain -Data
        $report.ChecksumsVerified | Should -Be 0
        $report.Problems | Should -BeNullOrEmpty
    }

    It 'a re-export with -Checksum records fresh digests, one per tensor of each new shard, all verified' {
        $fresh = Join-Path $TestDrive 'fresh'
        Get-SafeTensor $checked | Export-SafeTensor $fresh -MaxShardSize 20KB -Checksum
        foreach ($file in Get-ChildItem $fresh -Filter *.safetensors) {
            $reader = [ChatVector.TestKit.Independent.IndependentSafeTensorReader]::new($file.FullName)
            $reader.Metadata['chatvector.xxh128'].Split(',').Count | Should -Be $reader.Tensors.Count -Because $file.Name
        }
        (Test-SafeTensor $fresh -Data).ChecksumsVerified | Should -Be 21
    }

    It 'keeps a merged model''s recipe when it is re-exported, and drops keys outside the carried list' {
        $merged = Join-Path $TestDrive 'merged'
        Get-ChatVector -Base (Join-Path $Tiny 'base') -Chat (Join-Path $Tiny 'chat') |
            Add-ChatVector -Model (Join-Path $Tiny 'cp') -Ratio 0.5 |
            Export-SafeTensor $merged -Metadata @{ 'note' = 'mine' }
        $again = Join-Path $TestDrive 'again'
        Get-SafeTensor $merged | Export-SafeTensor $again
        $metadata = (Get-FileMetadata $again).Values | Select-Object -First 1
        ($metadata['chatvector.recipe'] | ConvertFrom-Json).vectors[0].ratio | Should -Be 0.5
        $metadata.ContainsKey('note') | Should -BeFalse
    }
}

Describe 'A vector''s ratio is saved with it' -Tag 'Metadata' {
    BeforeAll {
        $base = Join-Path $Tiny 'base'
        $chat = Join-Path $Tiny 'chat'
        $cp = Join-Path $Tiny 'cp'
        $cv = Join-Path $TestDrive 'cv'
        Get-ChatVector -Base $base -Chat $chat -Ratio 0.3 | Export-SafeTensor $cv
    }

    It 'Get-SafeTensor shows the ratio on every handle of the saved vector' {
        $handles = Get-SafeTensor $cv
        $handles.Count | Should -BeGreaterThan 0
        $handles | ForEach-Object { $_.Ratio | Should -Be 0.3 -Because $_.Name }
    }

    It 'Add-ChatVector uses the saved ratio: bit-identical to the live pipeline with -Ratio 0.3' {
        $fromSaved = Join-Path $TestDrive 'from-saved'
        $live = Join-Path $TestDrive 'live'
        Get-SafeTensor $cv | Add-ChatVector -Model $cp | Export-SafeTensor $fromSaved
        Get-ChatVector -Base $base -Chat $chat -Ratio 0.3 | Add-ChatVector -Model $cp | Export-SafeTensor $live
        $expected = Read-IndependentTensors $live
        $actual = Read-IndependentTensors $fromSaved
        $actual.Keys | Sort-Object | Should -Be ($expected.Keys | Sort-Object)
        foreach ($name in $expected.Keys) {
            [Linq.Enumerable]::SequenceEqual($actual[$name], $expected[$name]) | Should -BeTrue -Because $name
        }
        # and not the default ratio: 1.0 gives other values
        $one = Join-Path $TestDrive 'one'
        Get-ChatVector -Base $base -Chat $chat -Ratio 1 | Add-ChatVector -Model $cp | Export-SafeTensor $one
        [Linq.Enumerable]::SequenceEqual((Read-IndependentTensors $one)['model.layers.0.self_attn.q_proj.weight'], $actual['model.layers.0.self_attn.q_proj.weight']) |
            Should -BeFalse
    }

    It 'a vector saved without -Ratio has none, so Add-ChatVector -Ratio applies' {
        $plain = Join-Path $TestDrive 'cv-plain'
        Get-ChatVector -Base $base -Chat $chat | Export-SafeTensor $plain
        Get-SafeTensor $plain | ForEach-Object { $_.Ratio | Should -BeNullOrEmpty }
    }
}
