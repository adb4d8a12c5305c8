BeforeAll { . (Join-Path $PSScriptRoot 'TestHelpers.ps1') }

# The reduced toy experiment (examples/toy-chat-vector.ps1 -Size ci: the full training, half the evaluation
# sets): trains the four tiny models with libtorch's kernels pinned (the same bytes on any x86-64 CPU), merges
# through the cmdlets and evaluates on held-out B prompts with pinned kernels too. It asserts only what held, with
# margin, on every seed of the published table (docs/toy-chat-vector.md: full size, seeds 1-6): cp never answered
# in format; the vector at r = 1 raised cp's B perplexity by at least a third; chat's B perplexity was thousands of
# times cp's; chat answered its own A prompts in format every time. The format transfer of cp + r·v itself did not
# hold on every seed, so it is reported there, not asserted here.
Describe 'The toy Chat Vector experiment, reduced' -Tag 'Toy' {
    BeforeAll {
        $script:output = Join-Path $TestDrive 'toy'
        $script:rows = & (Join-Path $RepoRoot 'examples/toy-chat-vector.ps1') -Size ci -Seed 1 -Output $output -NoBuild -PassThru 6>$null
        $script:cp = $rows | Where-Object { $_.Series -eq 'cp' -and $_.Ratio -eq 0 }
        $script:fullVector = $rows | Where-Object { $_.Series -eq 'cp' -and $_.Ratio -eq 1 }
        $script:chat = $rows | Where-Object Series -EQ 'chat'
        $script:chatOnA = $rows | Where-Object Series -EQ 'chat-A'
    }

    It 'prints a row for cp and cp+FT at every ratio of the sweep, and for chat' {
        $rows.Count | Should -Be 12
        ($rows | Where-Object Series -EQ 'cp').Ratio | Should -Be @(0, 0.25, 0.5, 0.75, 1)
        ($rows | Where-Object Series -EQ 'cp+FT').Ratio | Should -Be @(0, 0.25, 0.5, 0.75, 1)
    }

    It 'cp alone never answers in format: it has never seen the chat format' {
        $cp.InFormat | Should -BeLessOrEqual 5
    }

    It 'chat answers its own language''s prompts in format: the vector comes from a model that learned the format' {
        $chatOnA.InFormat | Should -BeGreaterOrEqual 90
    }

    It 'the whole vector costs cp B perplexity (cp + 1·v at least 1.2 times cp''s)' {
        $fullVector.Perplexity | Should -BeGreaterThan (1.2 * $cp.Perplexity)
    }

    It 'cp models B text far better than chat does, which never saw B' {
        $cp.Perplexity * 100 | Should -BeLessThan $chat.Perplexity
    }

    It 'writes each trained model as a LlamaForCausalLM folder: transformers'' weight names and shapes, word-level tokenizer' {
        $folder = Join-Path $output 'models/cp'
        $config = Get-Content (Join-Path $folder 'config.json') -Raw | ConvertFrom-Json
        $config.architectures | Should -Be 'LlamaForCausalLM'
        # The names and shapes transformers gives a LlamaForCausalLM of this config.json (the test kit's list).
        $dimensions = [ChatVector.TestKit.LlamaDimensions]::new($config.vocab_size, $config.hidden_size, $config.intermediate_size,
            $config.num_hidden_layers, $config.num_attention_heads, $config.num_key_value_heads)
        $dimensions.HeadDimOverride = $config.head_dim
        $expected = @{}
        foreach ($weight in [ChatVector.TestKit.LlamaWeights]::Of($dimensions, 'Checkpoint')) { $expected[$weight.Item1] = $weight.Item2 -join ',' }
        $file = [ChatVector.TestKit.Independent.IndependentSafeTensorReader]::new((Join-Path $folder 'model.safetensors'))
        $actual = @{}
        foreach ($name in $file.Tensors.Keys) { $actual[$name] = $file.Tensors[$name].Shape -join ',' }
        ($actual.Keys | Sort-Object) | Should -Be ($expected.Keys | Sort-Object)
        foreach ($name in $expected.Keys) { $actual[$name] | Should -Be $expected[$name] -Because $name }
        $tokenizer = Get-Content (Join-Path $folder 'tokenizer.json') -Raw | ConvertFrom-Json
        $tokenizer.model.type | Should -Be 'WordLevel'
        (Get-Content (Join-Path $folder 'generation_config.json') -Raw | ConvertFrom-Json).eos_token_id | Should -Be $tokenizer.model.vocab.'<eos>'
    }

    It 'writes the sweep as a PNG chart' {
        $png = Join-Path $output 'toy-chat-vector.png'
        $png | Should -Exist
        [System.IO.File]::ReadAllBytes($png)[1..3] | Should -Be ([byte[]][char[]]'PNG')
    }
}

# libtorch picks its kernels per CPU at run time (ATen: default, avx2, avx512; MKL's BLAS and oneDNN their own
# paths), and unpinned the same seed trained different bytes on AVX2 and default kernels. The trainer pins them
# all to their portable level, so forcing other levels from outside must change nothing. On a CPU without AVX2
# or AVX-512 the forced levels fall back to what the CPU has, and the runs agree trivially.
Describe 'The toy trainer on any x86-64 CPU' -Tag 'Toy' {
    It 'trains the same bytes for a seed whatever kernel level the environment forces' {
        $configuration = if ($env:CHATVECTOR_TEST_CONFIGURATION) { $env:CHATVECTOR_TEST_CONFIGURATION } else { 'Release' }
        $toy = Join-Path $RepoRoot "examples/ToyChatVector/bin/$configuration/net10.0/ToyChatVector.dll"
        $forced = @(
            @{ ATEN_CPU_CAPABILITY = 'default'; MKL_CBWR = 'COMPATIBLE'; ONEDNN_MAX_CPU_ISA = 'SSE41' }
            @{ ATEN_CPU_CAPABILITY = 'avx2'; MKL_CBWR = 'AVX2'; ONEDNN_MAX_CPU_ISA = 'AVX2' }
            @{ ATEN_CPU_CAPABILITY = 'avx512'; MKL_CBWR = 'AVX512'; ONEDNN_MAX_CPU_ISA = 'AVX512_CORE' }
        )
        $fingerprints = foreach ($levels in $forced) {
            $output = Join-Path $TestDrive "kernels-$($levels.ATEN_CPU_CAPABILITY)"
            $saved = @{}
            foreach ($name in $levels.Keys) { $saved[$name] = [Environment]::GetEnvironmentVariable($name); [Environment]::SetEnvironmentVariable($name, $levels[$name]) }
            try { $log = & dotnet $toy train --out $output --seed 2 --size ci --scale 0.05 2>&1 }
            finally { foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) } }
            $LASTEXITCODE | Should -Be 0 -Because ($log -join "`n")
            (Get-FileHash (Join-Path $output '*/model.safetensors') | Sort-Object Path | ForEach-Object Hash) -join ','
        }
        $fingerprints[0].Split(',').Count | Should -Be 4 # base, chat, cp, cp-ft
        $fingerprints[1] | Should -Be $fingerprints[0]
        $fingerprints[2] | Should -Be $fingerprints[0]
    }
}

