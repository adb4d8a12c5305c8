# mergekit's own configs, its examples/*.yml and the configs of its tests/test_basic_merges.py, written as equivalents in
# tests/Pester/MergekitConfigs (the same keys, methods and values; the models replaced by local ones this suite writes:
# `base` and three fine-tunes of it, model_a, model_b, model_c, four layers each). Each runs as a user runs it,
# Import-MergeConfig x.yml | Export-SafeTensor out, and its output must load; where an expectation is cheap, the values
# are checked against one computed here, in float64, from the values the models were written with.
BeforeDiscovery {
    $script:configFiles = Get-ChildItem (Join-Path $PSScriptRoot 'MergekitConfigs') -Filter '*.yml' |
        Where-Object Name -NotMatch 'invalid' | ForEach-Object { @{ Name = $_.Name } }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:root = Join-Path $TestDrive 'mergekit'
    $script:values = @{}
    $shape = @{ Layers = 4; Hidden = 32; Intermediate = 48; Vocab = 64; Shards = 2 }
    $values.base = ([ChatVector.TestKit.LlamaModelBuilder]($shape + @{ Seed = 31 })).Write((Join-Path $root 'base'))
    $seed = 41
    foreach ($name in 'model_a', 'model_b', 'model_c') {
        $values[$name] = ([ChatVector.TestKit.LlamaModelBuilder]($shape + @{ Seed = $seed++; FineTuneOfSeed = 31 })).Write((Join-Path $root $name))
    }
    Copy-Item (Join-Path $PSScriptRoot 'MergekitConfigs/*.yml') $root
    $script:ImportId = 'ChatVector.PowerShell.Cmdlets.ImportMergeConfigCommand'

    function Invoke-Config([string] $Name) {
        $out = Join-Path $TestDrive ($Name -replace '\.yml$', '')
        if (-not (Test-Path $out)) { Import-MergeConfig (Join-Path $root $Name) | Export-SafeTensor $out }
        $out
    }

    # Each output tensor against an expectation by name ($Expected: name -> float64 values), within one unit in the last
    # place of the output dtype (the merge computes in float32 and rounds once; the expectation is float64).
    function Assert-Close([string] $Out, [hashtable] $Expected, [double] $Ulp) {
        $actual = Read-IndependentTensors $Out
        $actual.Count | Should -Be $Expected.Count
        foreach ($name in $Expected.Keys) {
            $e = $Expected[$name]; $a = $actual[$name]
            $a.Length | Should -Be $e.Length -Because $name
            for ($i = 0; $i -lt $e.Length; $i++) {
                if ([Math]::Abs($a[$i] - $e[$i]) -gt $Ulp * [Math]::Abs($e[$i]) + 1e-6) {
                    throw "$name[$i]: $($a[$i]) where $($e[$i]) is expected"
                }
            }
        }
    }

    # Per tensor, $Scale·Σ wᵢ·xᵢ over the named models ($Weights: model name -> w).
    function Get-WeightedSum([hashtable] $Weights, [double] $Scale = 1) {
        $result = @{}
        foreach ($name in $values.model_a.Keys) {
            $sum = [double[]]::new($values.model_a[$name].Length)
            foreach ($model in $Weights.Keys) {
                $x = $values[$model][$name]; $w = $Weights[$model]
                for ($i = 0; $i -lt $sum.Length; $i++) { $sum[$i] += $w * $x[$i] }
            }
            for ($i = 0; $i -lt $sum.Length; $i++) { $sum[$i] *= $Scale }
            $result[$name] = $sum
        }
        $result
    }

    # mergekit's slerp of two whole tensors at t (lerp where the unit vectors' |dot| > 0.9995), float64.
    function Get-Slerp([float[]] $V0, [float[]] $V1, [double] $T) {
        $n0 = 0.0; $n1 = 0.0
        for ($i = 0; $i -lt $V0.Length; $i++) { $n0 += [double]$V0[$i] * $V0[$i]; $n1 += [double]$V1[$i] * $V1[$i] }
        $n0 = [Math]::Sqrt($n0); $n1 = [Math]::Sqrt($n1)
        $dot = 0.0
        for ($i = 0; $i -lt $V0.Length; $i++) { $dot += ($V0[$i] / $n0) * ($V1[$i] / $n1) }
        $result = [double[]]::new($V0.Length)
        if ([Math]::Abs($dot) -gt 0.9995) {
            for ($i = 0; $i -lt $V0.Length; $i++) { $result[$i] = (1 - $T) * $V0[$i] + $T * $V1[$i] }
        }
        else {
            $theta = [Math]::Acos($dot); $sinTheta = [Math]::Sin($theta)
            $s0 = [Math]::Sin((1 - $T) * $theta) / $sinTheta; $s1 = [Math]::Sin($T * $theta) / $sinTheta
            for ($i = 0; $i -lt $V0.Length; $i++) { $result[$i] = $s0 * $V0[$i] + $s1 * $V1[$i] }
        }
        , $result
    }

    # mergekit's gradient at t: x = t·(n − 1), linear between neighbours.
    function Get-GradientPoint([double[]] $Points, [double] $T) {
        $x = $T * ($Points.Length - 1)
        $below = [Math]::Min([Math]::Floor($x), $Points.Length - 2)
        $Points[$below] + ($Points[$below + 1] - $Points[$below]) * ($x - $below)
    }

    function Get-LayerNumber([string] $Name) { if ($Name -match '^model\.layers\.(\d+)\.') { [int]$Matches[1] } else { $null } }

    $script:Bf16Ulp = [Math]::Pow(2, -7)
    $script:F16Ulp = [Math]::Pow(2, -10)
}

Describe 'mergekit''s own configs, on local models' -Tag 'Config', 'Mergekit' {
    It '<Name> runs, and its output loads: valid shards, index, config.json, no NaN, every tensor of the models' -ForEach $configFiles {
        $out = Invoke-Config $Name
        $report = Test-SafeTensor -LiteralPath $out -Data
        $report.Valid | Should -BeTrue -Because ($report.Problems | Out-String)
        $report.NaNCount | Should -Be 0
        $report.InfCount | Should -Be 0
        (Test-Path (Join-Path $out 'model.safetensors.index.json')) -or (Test-Path (Join-Path $out 'model.safetensors')) | Should -BeTrue
        $config = Get-Content (Join-Path $out 'config.json') -Raw | ConvertFrom-Json
        Test-Path (Join-Path $out 'mergekit_config.yml') | Should -BeTrue
        $tensors = Get-SafeTensor -LiteralPath $out
        $layers = $config.num_hidden_layers
        $tensors.Count | Should -Be (3 + 9 * $layers) -Because 'embedding, final norm and LM head, and 9 tensors a layer'
        foreach ($tensor in $tensors) {
            $number = Get-LayerNumber $tensor.Name
            $template = if ($null -eq $number) { $tensor.Name } else { $tensor.Name -replace '^model\.layers\.\d+\.', 'model.layers.0.' }
            $tensor.ElementCount | Should -Be $values.model_a[$template].Length -Because $tensor.Name
            if ($null -ne $number) { $number | Should -BeLessThan $layers }
        }
        $expectedDType = switch -Regex (Get-Content (Join-Path $root $Name) -Raw) { 'dtype: float16' { 'F16'; break } 'dtype: bfloat16' { 'BF16'; break } default { 'BF16' } }
        $tensors | ForEach-Object { "$($_.DType)" } | Select-Object -Unique | Should -Be $expectedDType
    }

    It 'refuses della with epsilon 1.35 (test_della_invalid_epsilon) before anything is written' {
        $out = Join-Path $TestDrive 'della-invalid'
        $failure = { Import-MergeConfig (Join-Path $root 'tb-della-invalid-epsilon.yml') | Export-SafeTensor $out } |
            Should -Throw -ErrorId "MergeConfigInvalid,$ImportId" -PassThru
        $failure.Exception.Message | Should -Match "epsilon"
        Test-Path $out | Should -BeFalse
        # Each value in its range, but density + epsilon past 1 (mergekit's della_magprune raises the same), named by model.
        $together = Join-Path $root 'della-together.yml'
        (Get-Content (Join-Path $root 'tb-della-invalid-epsilon.yml') -Raw) -replace 'density: 0.66', 'density: 0.9' -replace 'epsilon: 1.35', 'epsilon: 0.5' |
            Set-Content -LiteralPath $together
        $failure = { Import-MergeConfig $together | Export-SafeTensor $out } | Should -Throw -ErrorId "MergeConfigInvalid,$ImportId" -PassThru
        $failure.Exception.Message | Should -BeLike "*model 'model_a'*give 0.4 to 1.4*"
        Test-Path $out | Should -BeFalse
        # Filtered densities and epsilons are checked per tensor with the values that meet there: each pair fits.
        $filtered = Join-Path $root 'della-filtered.yml'
        (Get-Content (Join-Path $root 'tb-della-invalid-epsilon.yml') -Raw) -replace 'density: 0.66', 'density: [{filter: mlp, value: 0.1}, {value: 0.5}]' -replace 'epsilon: 1.35', 'epsilon: [{filter: self_attn, value: 0.3}, {value: 0.05}]' |
            Set-Content -LiteralPath $filtered
        $handles = @(Import-MergeConfig $filtered)
        $handles.Count | Should -BeGreaterThan 0
    }

    It 'copies the model (test_gpt2_copy), scales o_proj by 0 (test_passthrough_scale), bytes otherwise kept' {
        $a = Read-IndependentBytes (Join-Path $root 'model_a')
        $copy = Read-IndependentBytes (Invoke-Config 'tb-passthrough-copy.yml')
        foreach ($name in $a.Keys) { [Linq.Enumerable]::SequenceEqual($copy[$name], $a[$name]) | Should -BeTrue -Because $name }
        $scaledOut = Invoke-Config 'tb-passthrough-scale.yml'
        $scaled = Read-IndependentBytes $scaledOut
        $scaledValues = Read-IndependentTensors $scaledOut
        foreach ($name in $a.Keys) {
            # x·0 is −0 for a negative x, as in mergekit (its check is == 0).
            if ($name -match 'o_proj') { $scaledValues[$name] | Where-Object { $_ -ne 0 } | Should -BeNullOrEmpty -Because $name }
            else { [Linq.Enumerable]::SequenceEqual($scaled[$name], $a[$name]) | Should -BeTrue -Because $name }
        }
    }

    It 'stacks layers (test_gpt2_stack: the layers twice; orcamini-platy: overlapping ranges of two models), renumbered, bytes kept' {
        $a = Read-IndependentBytes (Join-Path $root 'model_a')
        $b = Read-IndependentBytes (Join-Path $root 'model_b')
        $stackOut = Invoke-Config 'tb-passthrough-stack.yml'
        (Get-Content (Join-Path $stackOut 'config.json') -Raw | ConvertFrom-Json).num_hidden_layers | Should -Be 8
        $stack = Read-IndependentBytes $stackOut
        foreach ($name in $stack.Keys) {
            $number = Get-LayerNumber $name
            $source = if ($null -eq $number) { $name } else { $name -replace '^model\.layers\.\d+\.', "model.layers.$($number % 4)." }
            [Linq.Enumerable]::SequenceEqual($stack[$name], $a[$source]) | Should -BeTrue -Because $name
        }
        $platyOut = Invoke-Config 'ex-orcamini-platy-44layer.yml'
        (Get-Content (Join-Path $platyOut 'config.json') -Raw | ConvertFrom-Json).num_hidden_layers | Should -Be 6
        $platy = Read-IndependentTensors $platyOut
        $aValues = $values.model_a; $bValues = $values.model_b
        foreach ($name in $platy.Keys) {
            $number = Get-LayerNumber $name
            # Layers 0-2 are model_a's 0-2, layers 3-5 model_b's 1-3; the embedding is the first slice's, norm and head the last's.
            $expected = if ($null -eq $number) { if ($name -match 'embed') { $aValues[$name] } else { $bValues[$name] } }
                elseif ($number -lt 3) { $aValues[$name] }
                else { $bValues[($name -replace '^model\.layers\.\d+\.', "model.layers.$($number - 2).")] }
            for ($i = 0; $i -lt $expected.Length; $i += 7) {
                [Math]::Abs($platy[$name][$i] - $expected[$i]) | Should -BeLessOrEqual ($F16Ulp * [Math]::Abs($expected[$i]) + [Math]::Pow(2, -24)) -Because "$name[$i]" # F16's subnormal step
            }
        }
    }

    It 'linear without a base model (test_linear_merge; examples/linear.yml): Σ w·x / Σ w of the models themselves' {
        Assert-Close (Invoke-Config 'tb-linear.yml') (Get-WeightedSum @{ model_a = 0.6; model_b = 0.4 }) $Bf16Ulp
        Assert-Close (Invoke-Config 'ex-linear.yml') (Get-WeightedSum @{ model_a = 1.0; model_b = 0.3; model_c = 0.5 } -Scale (1 / 1.8)) $F16Ulp
    }

    It 'task_arithmetic (test_task_arithmetic_merge): base + Σ w·(x − base)' {
        Assert-Close (Invoke-Config 'tb-task_arithmetic.yml') (Get-WeightedSum @{ model_a = 0.6; model_b = 0.4; model_c = 0.0 }) $Bf16Ulp
    }

    It 'slerp (test_slerp_merge) at t 0.35, and gradient-slerp''s filtered gradients over the layers of a slice' {
        $expected = @{}
        foreach ($name in $values.model_a.Keys) { $expected[$name] = Get-Slerp $values.model_a[$name] $values.model_b[$name] 0.35 }
        Assert-Close (Invoke-Config 'tb-slerp.yml') $expected $Bf16Ulp

        $expected = @{}
        foreach ($name in $values.model_a.Keys) {
            $number = Get-LayerNumber $name
            $place = if ($null -eq $number) { 0 } else { $number / 3 }
            $t = if ($name -match 'self_attn') { Get-GradientPoint @(0, 0.5, 0.3, 0.7, 1) $place }
                elseif ($name -match 'mlp') { Get-GradientPoint @(1, 0.5, 0.7, 0.3, 0) $place }
                else { 0.5 }
            $expected[$name] = Get-Slerp $values.model_a[$name] $values.model_b[$name] $t
        }
        Assert-Close (Invoke-Config 'ex-gradient-slerp.yml') $expected $F16Ulp
    }

    It 'nuslerp without a base model, flattened (test_nuslerp_merges): the spherical interpolation of the two models at t = w₂ / (w₁ + w₂)' {
        $expected = @{}
        foreach ($name in $values.model_a.Keys) {
            $v0 = $values.model_a[$name]; $v1 = $values.model_b[$name]
            $n0 = 0.0; $n1 = 0.0; $dot = 0.0
            for ($i = 0; $i -lt $v0.Length; $i++) { $n0 += [double]$v0[$i] * $v0[$i]; $n1 += [double]$v1[$i] * $v1[$i]; $dot += [double]$v0[$i] * $v1[$i] }
            $theta = [Math]::Acos([Math]::Min(1, $dot / [Math]::Sqrt($n0) / [Math]::Sqrt($n1)))
            $result = [double[]]::new($v0.Length)
            for ($i = 0; $i -lt $v0.Length; $i++) { $result[$i] = ([Math]::Sin(0.6 * $theta) * $v0[$i] + [Math]::Sin(0.4 * $theta) * $v1[$i]) / [Math]::Sin($theta) }
            $expected[$name] = $result
        }
        Assert-Close (Invoke-Config 'tb-nuslerp-nobase-rows-flatten.yml') $expected $Bf16Ulp
    }

    It 'karcher merges the base as one of the models when the config does not list it (test_karcher_merge), as mergekit adds it' {
        $listed = Join-Path $root 'karcher-base-listed.yml'
        (Get-Content (Join-Path $root 'tb-karcher.yml') -Raw) -replace '(?m)^models:\r?\n', "models:`n  - model: model_c`n" | Set-Content $listed
        $withBase = Read-IndependentBytes (Invoke-Config 'karcher-base-listed.yml')
        $unlisted = Read-IndependentBytes (Invoke-Config 'tb-karcher.yml')
        foreach ($name in $withBase.Keys) { [Linq.Enumerable]::SequenceEqual($unlisted[$name], $withBase[$name]) | Should -BeTrue -Because $name }
        # Without base_model, the mean of the two models alone: another result.
        (Get-Content (Join-Path $root 'tb-karcher.yml') -Raw) -replace '(?m)^base_model: .*\r?\n', '' | Set-Content (Join-Path $root 'karcher-no-base.yml')
        $twoOnly = Read-IndependentBytes (Invoke-Config 'karcher-no-base.yml')
        @($withBase.Keys | Where-Object { -not [Linq.Enumerable]::SequenceEqual($twoOnly[$_], $withBase[$_]) }).Count | Should -BeGreaterThan 0
    }

    It 'says with -Verbose which parameters the method ignores, as mergekit does (weight given to slerp''s models)' {
        $verbose = Import-MergeConfig (Join-Path $root 'tb-slerp.yml') -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        "$verbose" | Should -Match "'weight' \(model 'model_a', model 'model_b'\) is not a parameter of slerp: ignored"
    }

    It 'still refuses a parameter no method takes (a typo), naming the nearest' {
        $typo = Join-Path $root 'typo.yml'
        (Get-Content (Join-Path $root 'tb-slerp.yml') -Raw) -replace 't: 0.35', 'tt: 0.35' | Set-Content $typo
        $failure = { Import-MergeConfig $typo } | Should -Throw -ErrorId "MergeConfigInvalid,$ImportId" -PassThru
        $failure.Exception.Message | Should -Match "no parameter 'tt'"
    }
}

Describe 'Merge-ChatVector: the same methods as a pipeline step' -Tag 'Merge', 'Mergekit' {
    BeforeAll {
        function Get-TerminatingError([scriptblock] $Run) {
            try { & $Run | Out-Null } catch { return $_ }
            throw 'The pipeline did not fail.'
        }
        function Model([string] $Name) { Join-Path $root $Name }
        $script:MergeId = 'ChatVector.PowerShell.Cmdlets.MergeChatVectorCommand'
    }

    It 'slerp of one vector at t 0.35 is mergekit''s slerp of the base and the chat model, computed here in float64' {
        $out = Join-Path $TestDrive 'pipe-slerp'
        Get-ChatVector -Base (Model model_a) -Chat (Model model_b) | Merge-ChatVector slerp -Model (Model model_a) -Parameter @{ t = 0.35 } | Export-SafeTensor $out
        $expected = @{}
        foreach ($name in $values.model_a.Keys) { $expected[$name] = Get-Slerp $values.model_a[$name] $values.model_b[$name] 0.35 }
        Assert-Close $out $expected $Bf16Ulp
    }

    It '<Config> from the pipeline gives the bytes of the config run by Import-MergeConfig' -ForEach @(
        @{ Config = 'tb-model_stock.yml'; Method = 'model_stock'; Base = 'model_a'; Models = @('model_b', 'model_c'); Parameter = @{} }
        @{ Config = 'tb-sce.yml'; Method = 'sce'; Base = 'model_c'; Models = @('model_a', 'model_b'); Parameter = @{ select_topk = 0.5 } }
        @{ Config = 'tb-ties.yml'; Method = 'ties'; Base = 'model_c'; Models = @('model_a', 'model_b'); Parameter = @{ density = 0.3 } }
    ) {
        $out = Join-Path $TestDrive "pipe-$Method"
        # The weights as the config gives them: from each vector's own ratio.
        @(Get-ChatVector -Base (Model $Base) -Chat (Model $Models[0]) -Ratio 0.6; Get-ChatVector -Base (Model $Base) -Chat (Model $Models[1]) -Ratio 0.4) |
            Merge-ChatVector $Method -Model (Model $Base) -Parameter $Parameter | Export-SafeTensor $out
        $fromConfig = Read-IndependentBytes (Invoke-Config $Config)
        $fromPipeline = Read-IndependentBytes $out
        $fromPipeline.Count | Should -Be $fromConfig.Count
        foreach ($name in $fromConfig.Keys) { [Linq.Enumerable]::SequenceEqual($fromPipeline[$name], $fromConfig[$name]) | Should -BeTrue -Because $name }
    }

    It 'takes each model''s values from -ModelParameter (before the vectors'' own ratios): task_arithmetic is base + Σ w·(x − base)' {
        $out = Join-Path $TestDrive 'pipe-task-arithmetic'
        @(Get-ChatVector (Model base) (Model model_a) -Ratio 5; Get-ChatVector (Model base) (Model model_b)) |
            Merge-ChatVector task_arithmetic -Model (Model base) -ModelParameter @(@{ weight = 0.6 }, @{ weight = 0.4 }) | Export-SafeTensor $out
        $expected = @{}
        foreach ($name in $values.base.Keys) {
            $b = $values.base[$name]; $a = $values.model_a[$name]; $c = $values.model_b[$name]
            $expected[$name] = [double[]]@(for ($i = 0; $i -lt $b.Length; $i++) { $b[$i] + 0.6 * ($a[$i] - $b[$i]) + 0.4 * ($c[$i] - $b[$i]) })
        }
        Assert-Close $out $expected $Bf16Ulp
    }

    It 'counts a model without a tensor''s vector as zeros there (one Get-ChatVector of some tensors only), as Add-ChatVector''s sum does' {
        $partial = Join-Path $TestDrive 'pipe-partial'
        $summed = Join-Path $TestDrive 'add-partial'
        $vectors = { @(Get-ChatVector (Model base) (Model model_a) -Name 'model.layers.0.*' -Ratio 0.6; Get-ChatVector (Model base) (Model model_b) -Ratio 0.4) }
        & $vectors | Merge-ChatVector task_arithmetic -Model (Model base) | Export-SafeTensor $partial
        & $vectors | Add-ChatVector -Model (Model base) | Export-SafeTensor $summed
        $expected = Read-IndependentBytes $summed
        $actual = Read-IndependentBytes $partial
        foreach ($name in $expected.Keys) { [Linq.Enumerable]::SequenceEqual($actual[$name], $expected[$name]) | Should -BeTrue -Because $name }
        # And the layer-0 tensors did get model_a's share: they differ from model_b's alone.
        $onlyB = Join-Path $TestDrive 'add-only-b'
        Get-ChatVector (Model base) (Model model_b) -Ratio 0.4 | Add-ChatVector -Model (Model base) | Export-SafeTensor $onlyB
        $b = Read-IndependentBytes $onlyB
        [Linq.Enumerable]::SequenceEqual($actual['model.layers.0.mlp.up_proj.weight'], $b['model.layers.0.mlp.up_proj.weight']) | Should -BeFalse
        [Linq.Enumerable]::SequenceEqual($actual['model.layers.1.mlp.up_proj.weight'], $b['model.layers.1.mlp.up_proj.weight']) | Should -BeTrue
    }

    It 'records the method and its checked parameters in the shards'' recipe and the model card' {
        $out = Join-Path $TestDrive 'pipe-recipe'
        Get-ChatVector (Model model_a) (Model model_b) | Merge-ChatVector slerp (Model model_a) -Parameter @{ t = 0.25 } | Export-SafeTensor $out
        $file = Get-ChildItem $out -Filter '*.safetensors' | Select-Object -First 1
        $recipe = ([ChatVector.TestKit.Independent.IndependentSafeTensorReader]::new($file.FullName)).Metadata['chatvector.recipe'] | ConvertFrom-Json
        $recipe.method | Should -Be 'slerp'
        $recipe.parameters.merge.t | Should -Be 0.25
        $recipe.vectors[0].chat | Should -Be (Resolve-Path (Model model_b)).Path
        Get-Content (Join-Path $out 'README.md') -Raw | Should -Match 'Method: `slerp`'
    }

    It 'refuses <Case> before any handle is emitted, naming the problem' -ForEach @(
        @{ Case = 'a method that is not mergekit''s'; Method = 'slurp'; Chats = @('model_b'); Parameter = @{}; Id = 'MethodParameterInvalid'; Message = "*no merge method 'slurp'*slerp*" }
        @{ Case = 'slerp of two models'; Method = 'slerp'; Chats = @('model_b', 'model_c'); Parameter = @{ t = 0.5 }; Id = 'MergeNotPossible'; Message = '*problem*' }
        @{ Case = 'a parameter the method does not take'; Method = 'sce'; Chats = @('model_b', 'model_c'); Parameter = @{ select_top = 0.5 }; Id = 'MergeNotPossible'; Message = '*problem*' }
        @{ Case = 'a required parameter left out'; Method = 'slerp'; Chats = @('model_b'); Parameter = @{}; Id = 'MergeNotPossible'; Message = '*problem*' }
    ) {
        $emitted = [System.Collections.Generic.List[object]]::new()
        $record = Get-TerminatingError {
            $Chats | ForEach-Object { Get-ChatVector (Model model_a) (Model $_) } | Merge-ChatVector $Method (Model model_a) -Parameter $Parameter -ErrorAction SilentlyContinue |
                ForEach-Object { $emitted.Add($_) }
        }
        $record.FullyQualifiedErrorId | Should -Be "$Id,$MergeId"
        "$record" | Should -BeLike $Message
        $emitted.Count | Should -Be 0
    }

    It 'names each problem in an error of its own: the misspelt parameter with the nearest valid name' {
        $problems = $null
        try { $null = Get-ChatVector (Model model_a) (Model model_b) | Merge-ChatVector sce (Model model_a) -Parameter @{ select_top = 0.5 } -ErrorVariable problems -ErrorAction SilentlyContinue }
        catch { $_.FullyQualifiedErrorId | Should -Be "MergeNotPossible,$MergeId" }
        "$($problems | Where-Object { $_.FullyQualifiedErrorId -like 'MergeProblem,*' })" | Should -Match "no parameter 'select_top'.*select_topk"
    }
}

Describe 'Add-ChatVector -Lambda: mergekit''s lambda in the pipeline' -Tag 'Merge', 'Mergekit' {
    BeforeAll { function Model([string] $Name) { Join-Path $root $Name } }

    It 'scales the mix before it is added: base + lambda · Σ w·(x − base), computed here in float64, and recorded' {
        $out = Join-Path $TestDrive 'lambda-sum'
        @(Get-ChatVector (Model base) (Model model_a) -Ratio 0.6; Get-ChatVector (Model base) (Model model_b) -Ratio 0.4) |
            Add-ChatVector -Model (Model base) -Lambda 0.5 | Export-SafeTensor $out
        $expected = @{}
        foreach ($name in $values.base.Keys) {
            $b = $values.base[$name]; $a = $values.model_a[$name]; $c = $values.model_b[$name]
            $expected[$name] = [double[]]@(for ($i = 0; $i -lt $b.Length; $i++) { $b[$i] + 0.5 * (0.6 * ($a[$i] - $b[$i]) + 0.4 * ($c[$i] - $b[$i])) })
        }
        Assert-Close $out $expected $Bf16Ulp
        $file = Get-ChildItem $out -Filter '*.safetensors' | Select-Object -First 1
        $recipe = ([ChatVector.TestKit.Independent.IndependentSafeTensorReader]::new($file.FullName)).Metadata['chatvector.recipe'] | ConvertFrom-Json
        $recipe.lambda | Should -Be 0.5
    }

    It 'gives the bytes of a ties config with lambda 0.7 when the pipeline is the same TIES' {
        $config = Join-Path $root 'ties-lambda.yml'
        (Get-Content (Join-Path $root 'tb-ties.yml') -Raw) -replace '(?m)^parameters:\r?\n', "parameters:`n  lambda: 0.7`n" | Set-Content $config
        $out = Join-Path $TestDrive 'lambda-ties'
        @(Get-ChatVector (Model model_c) (Model model_a) -Ratio 0.6; Get-ChatVector (Model model_c) (Model model_b) -Ratio 0.4) |
            Limit-ChatVector -Density 0.3 -Method Magnitude |
            Add-ChatVector -Model (Model model_c) -Consensus Sum -Normalize -Lambda 0.7 | Export-SafeTensor $out
        $fromConfig = Read-IndependentBytes (Invoke-Config 'ties-lambda.yml')
        $fromPipeline = Read-IndependentBytes $out
        foreach ($name in $fromConfig.Keys) { [Linq.Enumerable]::SequenceEqual($fromPipeline[$name], $fromConfig[$name]) | Should -BeTrue -Because $name }
    }
}
