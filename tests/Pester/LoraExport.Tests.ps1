# Export-LoraAdapter end to end, as a user runs it: what the folder holds (read back by the test kit's own reader),
# the weight change scaling·B·A recomputed here against chat − base, selection, embedding and norm modes, a
# vocabulary mismatch, a saved vector, -Verbose's kept energies, -WhatIf, -Force and the errors; and read back by
# Get-LoraVector: the vector itself at full rank, the best rank-r error at rank r.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:trio = New-TestTrio -Root (Join-Path $TestDrive 'trio')
    $script:q = 'model.layers.0.self_attn.q_proj.weight'

    function Read-Adapter([string] $Folder) {
        [pscustomobject]@{
            Folder  = $Folder
            Weights = [ChatVector.TestKit.Independent.IndependentSafeTensorReader]::new((Join-Path $Folder 'adapter_model.safetensors'))
            Config  = Get-Content -Raw (Join-Path $Folder 'adapter_config.json') | ConvertFrom-Json -AsHashtable
        }
    }

    # scaling · B·A of a module, in float64 here, row-major.
    function Get-WeightChange($Adapter, [string] $Module) {
        $a = $Adapter.Weights.Tensors["base_model.model.$Module.lora_A.weight"]
        $b = $Adapter.Weights.Tensors["base_model.model.$Module.lora_B.weight"]
        $rank = $a.Shape[0]; $in = $a.Shape[1]; $out = $b.Shape[0]
        $r = if ($Adapter.Config.rank_pattern.ContainsKey($Module)) { $Adapter.Config.rank_pattern[$Module] } else { $Adapter.Config.r }
        $alpha = if ($Adapter.Config.alpha_pattern.ContainsKey($Module)) { $Adapter.Config.alpha_pattern[$Module] } else { $Adapter.Config.lora_alpha }
        $av = $Adapter.Weights.Values("base_model.model.$Module.lora_A.weight")
        $bv = $Adapter.Weights.Values("base_model.model.$Module.lora_B.weight")
        $change = [double[]]::new($out * $in)
        for ($i = 0; $i -lt $out; $i++) {
            for ($k = 0; $k -lt $rank; $k++) {
                $bik = $bv[$i * $rank + $k] * $alpha / $r
                for ($j = 0; $j -lt $in; $j++) { $change[$i * $in + $j] += $bik * $av[$k * $in + $j] }
            }
        }
        , $change
    }

    function Get-Delta([string] $Name) {
        $chat = $trio.ChatValues[$Name]; $base = $trio.BaseValues[$Name]
        $delta = [double[]]::new($chat.Length)
        for ($i = 0; $i -lt $chat.Length; $i++) { $delta[$i] = [double]$chat[$i] - [double]$base[$i] }
        , $delta
    }

    function Get-RelativeError([double[]] $Expected, [double[]] $Actual) {
        $error2 = 0.0; $norm2 = 0.0
        for ($i = 0; $i -lt $Expected.Length; $i++) { $error2 += ($Expected[$i] - $Actual[$i]) * ($Expected[$i] - $Actual[$i]); $norm2 += $Expected[$i] * $Expected[$i] }
        [math]::Sqrt($error2 / $norm2)
    }
}

Describe 'Export-LoraAdapter writes a PEFT adapter from a vector' -Tag 'LoraExport' {
    It 'at full rank the adapter reproduces the vector, and selects tensors by -Include and -Exclude' {
        $out = Join-Path $TestDrive 'attention'
        Get-ChatVector -Base $trio.Base -Chat $trio.Chat | Export-LoraAdapter $out -Rank 16 -Include '*self_attn*' -Exclude '*v_proj*'
        $adapter = Read-Adapter $out
        $adapter.Config.peft_type | Should -Be 'LORA'
        $adapter.Config.task_type | Should -Be 'CAUSAL_LM'
        $adapter.Config.target_modules | Should -Be @('k_proj', 'o_proj', 'q_proj')
        $adapter.Weights.Tensors.Keys | Where-Object { $_ -like '*v_proj*' -or $_ -like '*mlp*' -or $_ -like '*embed*' } | Should -BeNullOrEmpty
        foreach ($layer in 0, 1) {
            foreach ($module in 'q_proj', 'k_proj', 'o_proj') {
                $name = "model.layers.$layer.self_attn.$module"
                Get-RelativeError (Get-Delta "$name.weight") (Get-WeightChange $adapter $name) | Should -BeLessThan 1e-5 -Because $name
            }
        }
    }

    It 'saves the embedding and LM head whole by default, as the chat model holds them, and norms only when asked' {
        $out = Join-Path $TestDrive 'whole'
        Get-ChatVector -Base $trio.Base -Chat $trio.Chat | Export-LoraAdapter $out -Rank 4 -NormMode ModulesToSave
        $adapter = Read-Adapter $out
        foreach ($name in 'model.embed_tokens.weight', 'lm_head.weight', 'model.norm.weight') {
            [Linq.Enumerable]::SequenceEqual((Read-IndependentBytes (Join-Path $adapter.Folder "adapter_model.safetensors"))["base_model.model.$name"],
                [ChatVector.TestKit.TensorBytes]::Bf16($trio.ChatValues[$name])) | Should -BeTrue -Because $name
        }
        $adapter.Config.modules_to_save | Should -Contain 'embed_tokens'
        $adapter.Config.modules_to_save | Should -Contain 'norm'
        $adapter.Config.r | Should -Be 4
        Get-ChatVector -Base $trio.Base -Chat $trio.Chat | Export-LoraAdapter (Join-Path $TestDrive 'skip') -Rank 4 -EmbeddingMode Skip
        (Read-Adapter (Join-Path $TestDrive 'skip')).Weights.Tensors.Keys | Where-Object { $_ -like '*embed*' -or $_ -like '*lm_head*' -or $_ -like '*norm*' } |
            Should -BeNullOrEmpty
    }

    It 'with -EmbeddingMode Lora writes lora_embedding_A/B, and a vocabulary mismatch forces the chat model''s whole tensors' {
        $out = Join-Path $TestDrive 'lora-embedding'
        Get-ChatVector -Base $trio.Base -Chat $trio.Chat | Export-LoraAdapter $out -Rank 4 -EmbeddingMode Lora
        $adapter = Read-Adapter $out
        $adapter.Weights.Tensors['base_model.model.model.embed_tokens.lora_embedding_A'].Shape | Should -Be @(4, 40)
        $adapter.Weights.Tensors['base_model.model.model.embed_tokens.lora_embedding_B'].Shape | Should -Be @(16, 4)
        $adapter.Config.target_modules | Should -Contain 'embed_tokens'

        # cp has 4 more vocabulary rows: no vector of its embedding exists, so the adapter carries cp's own.
        $mismatch = Join-Path $TestDrive 'mismatch'
        $warnings = Get-ChatVector -Base $trio.Base -Chat $trio.Cp -SkipMismatched -WarningAction SilentlyContinue |
            Export-LoraAdapter $mismatch -Rank 4 -EmbeddingMode Lora 3>&1
        $warnings | Should -BeLike '*vocabularies differ*'
        $adapter = Read-Adapter $mismatch
        $adapter.Weights.Tensors['base_model.model.model.embed_tokens.weight'].Shape | Should -Be @(44, 16)
        [Linq.Enumerable]::SequenceEqual((Read-IndependentBytes (Join-Path $adapter.Folder "adapter_model.safetensors"))['base_model.model.model.embed_tokens.weight'],
            [ChatVector.TestKit.TensorBytes]::Bf16($trio.CpValues['model.embed_tokens.weight'])) | Should -BeTrue
        $adapter.Config.modules_to_save | Should -Contain 'embed_tokens'
    }

    It 'takes a saved vector, using the base model it recorded for whole tensors, and sparsified vectors' {
        $saved = Join-Path $TestDrive 'cv'
        Get-ChatVector -Base $trio.Base -Chat $trio.Chat | Export-SafeTensor $saved
        $out = Join-Path $TestDrive 'from-saved'
        Get-SafeTensor $saved | Export-LoraAdapter $out -Rank 2
        $adapter = Read-Adapter $out
        $adapter.Config.base_model_name_or_path | Should -Be $trio.Base
        [Linq.Enumerable]::SequenceEqual((Read-IndependentBytes (Join-Path $adapter.Folder "adapter_model.safetensors"))['base_model.model.lm_head.weight'],
            [ChatVector.TestKit.TensorBytes]::Bf16($trio.ChatValues['lm_head.weight'])) | Should -BeTrue

        $sparse = Join-Path $TestDrive 'from-limit'
        Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Name $q | Limit-ChatVector -Density 0.5 | Export-LoraAdapter $sparse -Rank 16
        (Read-Adapter $sparse).Weights.Tensors.Keys | Should -Contain 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight'
        $sparseVector = Join-Path $TestDrive 'limit.safetensors'
        Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Name $q | Limit-ChatVector -Density 0.5 | Export-SafeTensor $sparseVector
        Get-RelativeError (Read-IndependentTensors $sparseVector)[$q] (Get-WeightChange (Read-Adapter $sparse) 'model.layers.0.self_attn.q_proj') | Should -BeLessThan 1e-5
    }

    It 'reports each tensor''s rank and kept energy with -Verbose and in the metadata, ranks from -KeepEnergy' {
        $out = Join-Path $TestDrive 'energy'
        $verbose = Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Name '*mlp*' | Export-LoraAdapter $out -KeepEnergy 0.5 -Verbose 4>&1
        $lines = @($verbose | Where-Object { $_ -like '*kept energy*%' })
        $lines.Count | Should -Be 6
        $adapter = Read-Adapter $out
        $recorded = $adapter.Weights.Metadata['chatvector.lora.kept_energy'] | ConvertFrom-Json -AsHashtable
        $recorded.Count | Should -Be 6
        foreach ($name in $recorded.Keys) {
            $recorded[$name] | Should -BeGreaterOrEqual 0.5
            $module = $name -replace '\.weight$'
            $delta = Get-Delta $name
            # The kept share is what the adapter's error says: 1 − ‖v − B·A‖² / ‖v‖².
            $relative = Get-RelativeError $delta (Get-WeightChange $adapter $module)
            [math]::Abs((1 - $relative * $relative) - $recorded[$name]) | Should -BeLessThan 1e-4 -Because $name
        }
    }

    It 'with -WhatIf writes nothing; an existing target needs -Force, which replaces it' {
        $out = Join-Path $TestDrive 'whatif'
        Get-ChatVector -Base $trio.Base -Chat $trio.Chat | Export-LoraAdapter $out -Rank 4 -WhatIf
        $out | Should -Not -Exist
        $null = New-Item -ItemType Directory $out
        $record = { Get-ChatVector -Base $trio.Base -Chat $trio.Chat | Export-LoraAdapter $out -Rank 4 } | Should -Throw -PassThru
        $record.Exception.Message | Should -BeLike '*-Force*'
        Join-Path $out 'adapter_config.json' | Should -Not -Exist
        Get-ChatVector -Base $trio.Base -Chat $trio.Chat | Export-LoraAdapter $out -Rank 4 -Force -PassThru | Should -BeOfType [System.IO.DirectoryInfo]
        Join-Path $out 'adapter_config.json' | Should -Exist
        Get-ChildItem $TestDrive -Force | Where-Object Name -Like '.whatif*' | Should -BeNullOrEmpty
    }

    It 'refuses <Case> before writing anything' -ForEach @(
        @{ Case = 'a rank below 1'; Arguments = @{ Rank = 0 }; Message = '*-Rank 0*' }
        @{ Case = 'no rank rule'; Arguments = @{}; Message = '*-Rank*-KeepEnergy*' }
        @{ Case = 'an energy above 1'; Arguments = @{ KeepEnergy = 1.5 }; Message = '*-KeepEnergy*' }
        @{ Case = 'a selection with no 2-D weight'; Arguments = @{ Rank = 4; Include = '*norm*' }; Message = '*2-D weight*' }
    ) {
        $out = Join-Path $TestDrive 'refused'
        $arguments = $Arguments
        $record = { Get-ChatVector -Base $trio.Base -Chat $trio.Chat | Export-LoraAdapter $out @arguments } | Should -Throw -PassThru
        $record.FullyQualifiedErrorId | Should -Be 'InvalidArgument,ChatVector.PowerShell.Cmdlets.ExportLoraAdapterCommand'
        $record.Exception.Message | Should -BeLike $Message
        $out | Should -Not -Exist
    }
}

Describe 'Export-LoraAdapter then Get-LoraVector' -Tag 'LoraExport', 'Lora' {
    BeforeAll {
        # A fine-tune a few bf16 steps from its base, as a chat model is: a small vector of full rank in every weight.
        $script:root = Join-Path $TestDrive 'round-trip'
        $script:tunedBase = Join-Path $root 'base'
        $script:tuned = Join-Path $root 'tuned'
        $null = ([ChatVector.TestKit.LlamaModelBuilder]@{ Seed = 21 }).Write($tunedBase)
        $null = ([ChatVector.TestKit.LlamaModelBuilder]@{ Seed = 22; FineTuneOfSeed = 21 }).Write($tuned)
        $vectorFile = Join-Path $root 'vector.safetensors'
        Get-ChatVector -Base $tunedBase -Chat $tuned | Export-SafeTensor $vectorFile
        $script:vector = Read-IndependentTensors $vectorFile
        $script:float32Step = [math]::Pow(2, -23)
    }

    It 'at full rank gives back every tensor of the vector to float32 rounding' {
        $adapter = Join-Path $root 'full'
        Get-ChatVector -Base $tunedBase -Chat $tuned | Export-LoraAdapter $adapter -Rank 16 -EmbeddingMode Lora -NormMode ModulesToSave
        $readBack = Join-Path $root 'full-vector.safetensors'
        Get-LoraVector $adapter -Base $tunedBase | Export-SafeTensor $readBack
        $lora = Read-IndependentTensors $readBack

        @($lora.Keys | Sort-Object) | Should -Be @($vector.Keys | Sort-Object)
        foreach ($name in $vector.Keys) {
            $expected = $vector[$name]; $actual = $lora[$name]
            $actual.Count | Should -Be $expected.Count -Because $name
            $norm = [math]::Sqrt(($expected | ForEach-Object { $_ * $_ } | Measure-Object -Sum).Sum)
            $norm | Should -BeGreaterThan 0 -Because "the fine-tune changed $name"
            # B·A in float32 from float32 factors: each element within a few float32 steps of the vector's size.
            $worst = 0.0
            for ($i = 0; $i -lt $expected.Count; $i++) { $worst = [math]::Max($worst, [math]::Abs($actual[$i] - $expected[$i])) }
            $worst | Should -BeLessOrEqual (16 * $float32Step * $norm) -Because $name
        }
    }

    It 'at rank r the merged model misses the vector by exactly the singular values left out' {
        $rank = 4
        $adapter = Join-Path $root 'rank4'
        $mlp = 'model.layers.0.mlp.*'
        Get-ChatVector -Base $tunedBase -Chat $tuned -Name $mlp | Export-LoraAdapter $adapter -Rank $rank
        $merged = Join-Path $root 'rank4-merged'
        Get-LoraVector $adapter -Base $tunedBase | Add-ChatVector -Model $tunedBase -DType F32 | Export-SafeTensor $merged
        $mergedValues = Read-IndependentTensors $merged
        $baseValues = Read-IndependentTensors $tunedBase
        foreach ($name in 'model.layers.0.mlp.gate_proj.weight', 'model.layers.0.mlp.up_proj.weight', 'model.layers.0.mlp.down_proj.weight') {
            $v = $vector[$name]
            $shape = if ($name -like '*down_proj*') { 16, 24 } else { 24, 16 }
            $squared = [ChatVector.TestKit.Independent.Float64Spectrum]::SquaredSingularValues([double[]]$v, $shape[0], $shape[1])
            $optimal = [math]::Sqrt([ChatVector.TestKit.Independent.Float64Spectrum]::Tail($squared, $rank))
            $error2 = 0.0
            for ($i = 0; $i -lt $v.Count; $i++) { $e = $mergedValues[$name][$i] - $baseValues[$name][$i] - $v[$i]; $error2 += $e * $e }
            [math]::Sqrt($error2) | Should -BeGreaterThan ($optimal * (1 - 1e-3)) -Because $name
            [math]::Sqrt($error2) | Should -BeLessThan ($optimal * (1 + 1e-3)) -Because $name
        }
    }
}
