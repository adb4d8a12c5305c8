# Import-MergeConfig with tokenizer_source / tokenizer: models of different vocabularies merge row by row through the
# token each row stands for, the output gets the chosen tokenizer and vocab_size; impossible requests are refused before
# anything is read; chat_template's built-in names write templates that render their conversation formats.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:ImportId = 'ChatVector.PowerShell.Cmdlets.ImportMergeConfigCommand'
    $script:root = Join-Path $TestDrive 'vocab'
    $words = 3..39 | ForEach-Object { "w$_" }
    # The base; a chat fine-tune that adds two chat markers and two words; another fine-tune that lacks w20, orders its
    # words backwards and adds one word of its own and one of the chat markers. Both fine-tunes are a few bf16 steps
    # from the base, each row by its token.
    $script:tokens = [ordered]@{
        base  = [string[]](@('<unk>', '<s>', '</s>') + $words)
        chat  = [string[]](@('<unk>', '<s>', '</s>') + $words + @('<|im_start|>', '<|im_end|>', 'hola', 'adios'))
        other = [string[]](@('<unk>', '<s>', '</s>', 'hola') + ($words | Where-Object { $_ -ne 'w20' } | Sort-Object { [int]$_.Substring(1) } -Descending) + @('<|im_end|>', 'ciao'))
    }
    $script:values = @{}
    $values.base = ([ChatVector.TestKit.LlamaModelBuilder]@{ Seed = 21; Vocab = 40; Heads = 4; TokenizerVocab = $tokens.base }).Write((Join-Path $root 'base'))
    foreach ($name in 'chat', 'other') {
        $values[$name] = ([ChatVector.TestKit.LlamaModelBuilder]@{
                Seed = if ($name -eq 'chat') { 22 } else { 23 }; Vocab = $tokens[$name].Count; Heads = 4; TokenizerVocab = $tokens[$name]
                FineTuneOf = $values.base; FineTuneOfTokens = $tokens.base
            }).Write((Join-Path $root $name))
    }
    $script:hidden = 16

    # chat and other onto the base by task arithmetic, over the union of their vocabularies.
    $script:UnionConfig = @'
merge_method: task_arithmetic
base_model: base
models:
  - model: chat
    parameters: {weight: 0.5}
  - model: other
    parameters: {weight: 1.0}
tokenizer_source: union
dtype: float32
'@

    function New-Config([string] $Name, [string] $Text) {
        $path = Join-Path $root $Name
        Set-Content -LiteralPath $path -Value $Text
        $path
    }

    # Row $Row of tensor $Tensor of model $Model, as doubles.
    function Get-Row([string] $Model, [string] $Tensor, [int] $Row) {
        $all = $values[$Model][$Tensor]
        [double[]]($all[($Row * $hidden)..($Row * $hidden + $hidden - 1)])
    }

    # mergekit's rule, written out: a model's own row of the token; else the configured row; else the only model's that
    # has it, the base's, or the mean of those that have it. -NoBase: the config has no base_model, so no model's row is preferred.
    function Get-MappedRow([string] $Model, [string] $Tensor, [string] $Token, [string[]] $Models, [switch] $NoBase) {
        $own = [array]::IndexOf($tokens[$Model], $Token)
        if ($own -ge 0) { return Get-Row $Model $Tensor $own }
        $having = @($Models | Where-Object { [array]::IndexOf($tokens[$_], $Token) -ge 0 })
        $preferBase = -not $NoBase -and $having -contains 'base'
        if ($having.Count -eq 1 -or $preferBase) {
            $donor = if ($preferBase) { 'base' } else { $having[0] }
            return Get-Row $donor $Tensor ([array]::IndexOf($tokens[$donor], $Token))
        }
        $sum = [double[]]::new($hidden)
        foreach ($m in $having) { $r = Get-Row $m $Tensor ([array]::IndexOf($tokens[$m], $Token)); for ($c = 0; $c -lt $hidden; $c++) { $sum[$c] += $r[$c] / $having.Count } }
        $sum
    }

    function Assert-Row([double[]] $Actual, [double[]] $Expected, [string] $Because) {
        for ($c = 0; $c -lt $hidden; $c++) { [math]::Abs($Actual[$c] - $Expected[$c]) | Should -BeLessOrEqual 1e-6 -Because "$Because, column $c" }
    }

    # Token text to id of a tokenizer.json read as a hashtable: its vocabulary and its added tokens.
    function Get-TokenIds([hashtable] $Tokenizer) {
        $ids = @{}
        foreach ($entry in $Tokenizer.model.vocab.GetEnumerator()) { $ids[$entry.Key] = $entry.Value }
        foreach ($added in $Tokenizer.added_tokens) { $ids[$added.content] = $added.id }
        $ids
    }

    function Get-OutputRow([hashtable] $Written, [string] $Tensor, [int] $Row) {
        [double[]]($Written[$Tensor][($Row * $hidden)..($Row * $hidden + $hidden - 1)])
    }
}

Describe 'Import-MergeConfig with another vocabulary' -Tag 'Config' {
    It 'tokenizer_source union: the base vocabulary, then the other models'' words, then their added tokens; each row merged from the rows of its token' {
        $config = New-Config 'union.yml' $UnionConfig
        $out = Join-Path $TestDrive 'union'
        Import-MergeConfig $config | Export-SafeTensor $out

        # The vocabulary, read from the written tokenizer.json.
        $tokenizer = Get-Content (Join-Path $out 'tokenizer.json') -Raw | ConvertFrom-Json -AsHashtable
        $ids = Get-TokenIds $tokenizer
        $expectedOrder = $tokens.base + @('hola', 'adios', 'ciao', '<|im_start|>', '<|im_end|>')
        for ($id = 0; $id -lt $expectedOrder.Count; $id++) { $ids[$expectedOrder[$id]] | Should -Be $id -Because $expectedOrder[$id] }
        $ids.Count | Should -Be 45
        ($tokenizer.added_tokens | Where-Object content -EQ '<|im_end|>').special | Should -BeTrue
        ($tokenizer.added_tokens | Where-Object content -EQ 'hola').special | Should -BeFalse
        (Get-Content (Join-Path $out 'config.json') -Raw | ConvertFrom-Json).vocab_size | Should -Be 45

        $written = Read-IndependentTensors $out
        foreach ($tensor in 'model.embed_tokens.weight', 'lm_head.weight') {
            $written[$tensor].Count | Should -Be (45 * $hidden)
            for ($id = 0; $id -lt $expectedOrder.Count; $id++) {
                $token = $expectedOrder[$id]
                $b = Get-MappedRow 'base' $tensor $token @('base', 'chat', 'other')
                $c = Get-MappedRow 'chat' $tensor $token @('base', 'chat', 'other')
                $o = Get-MappedRow 'other' $tensor $token @('base', 'chat', 'other')
                $expected = [double[]](0..($hidden - 1) | ForEach-Object { $b[$_] + 0.5 * ($c[$_] - $b[$_]) + 1.0 * ($o[$_] - $b[$_]) })
                Assert-Row (Get-OutputRow $written $tensor $id) $expected "$tensor row $id ('$token')"
            }
        }
    }

    It 'without base_model, tokenizer_source union starts from the first model''s vocabulary and prefers no model''s row for a token some lack' {
        # linear of three models, none the base: mergekit takes the first model's tokenizer for the union and gives a
        # model that lacks a token the mean of the rows of those that have it (w20 for other, hola for base).
        $config = New-Config 'union-nobase.yml' @'
merge_method: linear
models:
  - model: other
    parameters: {weight: 1.0}
  - model: chat
    parameters: {weight: 3.0}
  - model: base
    parameters: {weight: 2.0}
tokenizer_source: union
dtype: float32
'@
        $out = Join-Path $TestDrive 'union-nobase'
        Import-MergeConfig $config | Export-SafeTensor $out

        $ids = Get-TokenIds (Get-Content (Join-Path $out 'tokenizer.json') -Raw | ConvertFrom-Json -AsHashtable)
        for ($id = 0; $id -lt $tokens.other.Count; $id++) { $ids[$tokens.other[$id]] | Should -Be $id -Because "other's $($tokens.other[$id]) keeps its id" }
        $ids.Count | Should -Be 45
        (Get-Content (Join-Path $out 'config.json') -Raw | ConvertFrom-Json).vocab_size | Should -Be 45

        $written = Read-IndependentTensors $out
        $models = @('other', 'chat', 'base')
        foreach ($tensor in 'model.embed_tokens.weight', 'lm_head.weight') {
            $written[$tensor].Count | Should -Be (45 * $hidden)
            foreach ($token in $ids.Keys) {
                $o = Get-MappedRow 'other' $tensor $token $models -NoBase
                $c = Get-MappedRow 'chat' $tensor $token $models -NoBase
                $b = Get-MappedRow 'base' $tensor $token $models -NoBase
                $expected = [double[]](0..($hidden - 1) | ForEach-Object { (1.0 * $o[$_] + 3.0 * $c[$_] + 2.0 * $b[$_]) / 6.0 })
                Assert-Row (Get-OutputRow $written $tensor $ids[$token]) $expected "$tensor row $($ids[$token]) ('$token')"
            }
        }
    }

    It 'slices with tokenizer_source union: one vocabulary over every model, each vocabulary tensor mapped among its own slice''s sources' {
        # The embedding comes from the first slice (base and chat), the LM head from the last (base and other): as mergekit
        # maps each tensor among the models it merges, a token neither has (ciao for the embedding) gets zero rows.
        $config = New-Config 'union-slices.yml' @'
merge_method: task_arithmetic
base_model: base
slices:
  - sources:
      - model: base
        layer_range: [0, 1]
      - model: chat
        layer_range: [0, 1]
        parameters: {weight: 0.5}
  - sources:
      - model: base
        layer_range: [1, 2]
      - model: other
        layer_range: [1, 2]
        parameters: {weight: 1.0}
tokenizer_source: union
dtype: float32
'@
        $out = Join-Path $TestDrive 'union-slices'
        Import-MergeConfig $config | Export-SafeTensor $out

        $ids = Get-TokenIds (Get-Content (Join-Path $out 'tokenizer.json') -Raw | ConvertFrom-Json -AsHashtable)
        $expectedOrder = $tokens.base + @('hola', 'adios', 'ciao', '<|im_start|>', '<|im_end|>')
        for ($id = 0; $id -lt $expectedOrder.Count; $id++) { $ids[$expectedOrder[$id]] | Should -Be $id -Because $expectedOrder[$id] }
        (Get-Content (Join-Path $out 'config.json') -Raw | ConvertFrom-Json).vocab_size | Should -Be 45

        $written = Read-IndependentTensors $out
        foreach ($case in @{ Tensor = 'model.embed_tokens.weight'; Model = 'chat'; Weight = 0.5 }, @{ Tensor = 'lm_head.weight'; Model = 'other'; Weight = 1.0 }) {
            $tensor = $case.Tensor
            $written[$tensor].Count | Should -Be (45 * $hidden)
            for ($id = 0; $id -lt $expectedOrder.Count; $id++) {
                $token = $expectedOrder[$id]
                $b = Get-MappedRow 'base' $tensor $token @('base', $case.Model)
                $m = Get-MappedRow $case.Model $tensor $token @('base', $case.Model)
                $expected = [double[]](0..($hidden - 1) | ForEach-Object { $b[$_] + $case.Weight * ($m[$_] - $b[$_]) })
                Assert-Row (Get-OutputRow $written $tensor $id) $expected "$tensor row $id ('$token')"
            }
        }
        (Get-OutputRow $written 'model.embed_tokens.weight' $ids['ciao']) | Should -Be ([double[]]::new($hidden)) -Because 'neither base nor chat has ciao'

        # A configured token's source must be among the sources of the slice whose tensor takes its row.
        $sourced = New-Config 'union-slices-sourced.yml' ((Get-Content $config -Raw) -replace 'tokenizer_source: union', "tokenizer:`n  source: union`n  tokens:`n    hola:`n      source: chat`n      force: true")
        $failure = { Import-MergeConfig $sourced } | Should -Throw -ErrorId "MergeConfigInvalid,$ImportId" -PassThru
        $failure.Exception.Message | Should -Match "model 'chat' is not among the sources of the slice at line 10"
    }

    It 'measures a merge of another vocabulary, or of stacked layers, on the pipeline as the written model measures' {
        $union = New-Config 'union-measure.yml' $UnionConfig
        $stacked = New-Config 'stacked-measure.yml' @'
merge_method: passthrough
slices:
  - sources:
      - model: chat
        layer_range: [0, 2]
  - sources:
      - model: chat
        layer_range: [1, 2]
chat_template: chatml
'@
        $text = Join-Path $TestDrive 'measure.txt'
        Set-Content -LiteralPath $text -Value 'w3 w4 hola w20 adios w5 w6 w7 ciao w8'
        foreach ($config in $union, $stacked) {
            $out = Join-Path $TestDrive ([IO.Path]::GetFileNameWithoutExtension($config))
            Import-MergeConfig $config | Export-SafeTensor $out
            $written = Measure-ChatVectorModel -Model $out -Path $text -ErrorAction Stop
            $piped = Import-MergeConfig $config | Measure-ChatVectorModel -Path $text -ErrorAction Stop
            $written.Tokens | Should -BeGreaterThan 5 -Because $config
            $piped.Tokens | Should -Be $written.Tokens -Because $config
            $piped.Perplexity | Should -Be $written.Perplexity -Because $config
        }
    }

    It 'tokenizer: a model''s vocabulary, a forced token from another token''s row, a new zero token, padding rows the mean of the token rows' {
        $config = New-Config 'section.yml' @'
merge_method: task_arithmetic
base_model: base
models:
  - model: chat
    parameters: {weight: 1.0}
tokenizer:
  source: chat
  pad_to_multiple_of: 16
  tokens:
    "<|im_end|>":
      source: {kind: model_token, model: base, token: "</s>"}
      force: true
    "<new>":
      source: {kind: zero}
chat_template: chatml
dtype: float32
'@
        $out = Join-Path $TestDrive 'section'
        Import-MergeConfig $config | Export-SafeTensor $out
        (Get-Content (Join-Path $out 'config.json') -Raw | ConvertFrom-Json).vocab_size | Should -Be 48
        $tokenizer = Get-Content (Join-Path $out 'tokenizer.json') -Raw | ConvertFrom-Json
        ($tokenizer.added_tokens | Where-Object content -EQ '<new>').id | Should -Be 44
        (Get-Content (Join-Path $out 'tokenizer_config.json') -Raw | ConvertFrom-Json).chat_template | Should -Match '<\|im_start\|>'

        $written = Read-IndependentTensors $out
        foreach ($tensor in 'model.embed_tokens.weight', 'lm_head.weight') {
            $written[$tensor].Count | Should -Be (48 * $hidden)
            $tokenRows = [System.Collections.Generic.List[double[]]]::new()
            for ($id = 0; $id -lt 45; $id++) {
                $expected = switch ($id) {
                    41 { Get-Row 'base' $tensor 2 }        # <|im_end|>: forced, base's '</s>' row for both models
                    44 { [double[]]::new($hidden) }        # <new>: zeros
                    default { Get-MappedRow 'chat' $tensor $tokens.chat[$id] @('base', 'chat') } # base + (chat − base) = chat's row
                }
                Assert-Row (Get-OutputRow $written $tensor $id) $expected "$tensor row $id"
                $tokenRows.Add($expected)
            }
            $mean = [double[]](0..($hidden - 1) | ForEach-Object { $c = $_; ($tokenRows | ForEach-Object { $_[$c] } | Measure-Object -Average).Average })
            foreach ($pad in 45..47) { Assert-Row (Get-OutputRow $written $tensor $pad) $mean "$tensor padding row $pad" }
        }
    }

    It 'copies a model source''s tokenizer files as they are when nothing is added to them' {
        $config = New-Config 'model-source.yml' "merge_method: task_arithmetic`nbase_model: base`nmodels:`n  - model: chat`n    parameters: {weight: 1.0}`ntokenizer_source: chat`n"
        $out = Join-Path $TestDrive 'model-source'
        Import-MergeConfig $config | Export-SafeTensor $out
        (Get-FileHash (Join-Path $out 'tokenizer.json')).Hash | Should -Be (Get-FileHash (Join-Path $root 'chat/tokenizer.json')).Hash
        (Get-Content (Join-Path $out 'config.json') -Raw | ConvertFrom-Json).vocab_size | Should -Be 44
    }

    It 'refuses impossible vocabulary requests in one error naming each key, before anything is written' {
        $config = New-Config 'impossible.yml' @'
merge_method: task_arithmetic
base_model: base
models:
  - model: chat
    parameters: {weight: 1.0}
tokenizer:
  source: union
  tokens:
    "<x>":
      source: chat
    "<y>":
      source: {kind: model_token, model: base, token: "nope"}
    "<z>":
      source: other
'@
        $out = Join-Path $TestDrive 'impossible'
        $failure = { Import-MergeConfig $config | Export-SafeTensor $out } | Should -Throw -ErrorId "MergeConfigInvalid,$ImportId" -PassThru
        $failure.Exception.Message | Should -Match "tokenizer.tokens\['<x>'\].source': model 'chat' has no token '<x>'"
        $failure.Exception.Message | Should -Match "tokenizer.tokens\['<y>'\].source': model 'base' has no token 'nope'"
        $failure.Exception.Message | Should -Match "tokenizer.tokens\['<z>'\].source': model 'other' is not one of the models merged"
        Test-Path $out | Should -BeFalse

        $both = New-Config 'both.yml' "merge_method: task_arithmetic`nbase_model: base`nmodels:`n  - model: chat`ntokenizer_source: union`ntokenizer: {source: base}`n"
        ({ Import-MergeConfig $both } | Should -Throw -ErrorId "MergeConfigInvalid,$ImportId" -PassThru).Exception.Message | Should -Match "'tokenizer_source' .* and 'tokenizer' .* are both given"
        $missing = New-Config 'missing.yml' "merge_method: task_arithmetic`nbase_model: base`nmodels:`n  - model: chat`ntokenizer_source: ./nowhere`n"
        ({ Import-MergeConfig $missing } | Should -Throw -ErrorId "MergeConfigInvalid,$ImportId" -PassThru).Exception.Message | Should -Match "model './nowhere'.*no model folder"
        $kind = New-Config 'kind.yml' "merge_method: task_arithmetic`nbase_model: base`nmodels:`n  - model: chat`ntokenizer:`n  tokens:`n    '<q>': {source: {kind: mean}}`n  pad_to_multiple_of: 0`n"
        $message = ({ Import-MergeConfig $kind } | Should -Throw -ErrorId "MergeConfigInvalid,$ImportId" -PassThru).Exception.Message
        $message | Should -Match "tokenizer.tokens\['<q>'\].source' .*kind is 'mean'"
        $message | Should -Match "'tokenizer.pad_to_multiple_of' .*'0' is not a whole number above 0"
    }
}

Describe 'Import-MergeConfig without a tokenizer setting, embeddings of other sizes' -Tag 'Config' {
    It 'slerp merges the rows every model has, warns of the cut, and config.json''s vocab_size is the rows written' {
        # chat (44 rows: base's 40 tokens, then four more) as the base, base (40) as the model: as mergekit's
        # rectify_embed_sizes, rows 0..39 of both are interpolated; chat's four added tokens have no rows.
        $config = New-Config 'cut.yml' @'
merge_method: slerp
base_model: chat
models:
  - model: base
parameters:
  t: 0.3
dtype: float32
'@
        $out = Join-Path $TestDrive 'cut'
        Import-MergeConfig $config -WarningVariable warnings -WarningAction SilentlyContinue | Export-SafeTensor $out
        ($warnings -join "`n") | Should -Match "tensor 'model.embed_tokens.weight': slerp merges the 40 rows every model has \(the base \[44, 16\], 'base' \[40, 16\]\).*from id 40 up have no row"
        ($warnings -join "`n") | Should -Match "config.json's vocab_size is 40, the rows written \(the base's is 44"
        (Get-Content (Join-Path $out 'config.json') -Raw | ConvertFrom-Json).vocab_size | Should -Be 40
        (Get-FileHash (Join-Path $out 'tokenizer.json')).Hash | Should -Be (Get-FileHash (Join-Path $root 'chat/tokenizer.json')).Hash

        $written = Read-IndependentTensors $out
        foreach ($tensor in 'model.embed_tokens.weight', 'lm_head.weight') {
            $written[$tensor].Count | Should -Be (40 * $hidden)
            # mergekit's slerp of the two cut tensors, each flattened: lerp when they are nearly parallel.
            $v0 = [double[]]($values.chat[$tensor][0..(40 * $hidden - 1)])
            $v1 = [double[]]($values.base[$tensor][0..(40 * $hidden - 1)])
            $n0 = [math]::Sqrt(($v0 | ForEach-Object { $_ * $_ } | Measure-Object -Sum).Sum)
            $n1 = [math]::Sqrt(($v1 | ForEach-Object { $_ * $_ } | Measure-Object -Sum).Sum)
            $dot = 0.0; for ($i = 0; $i -lt $v0.Count; $i++) { $dot += $v0[$i] / $n0 * $v1[$i] / $n1 }
            if ([math]::Abs($dot) -gt 0.9995) { $s0 = 0.7; $s1 = 0.3 }
            else {
                $theta = [math]::Acos($dot)
                $s0 = [math]::Sin($theta * 0.7) / [math]::Sin($theta); $s1 = [math]::Sin($theta * 0.3) / [math]::Sin($theta)
            }
            for ($i = 0; $i -lt $v0.Count; $i++) {
                [math]::Abs($written[$tensor][$i] - ($s0 * $v0[$i] + $s1 * $v1[$i])) | Should -BeLessOrEqual 1e-6 -Because "$tensor element $i"
            }
        }
    }

    It 'slices: the embedding cut among the first slice''s sources, the head among the last''s, chat_template written' {
        # Layer stacking with linear: each slice merges base (weight 0: mergekit merges a listed base as one of the models),
        # chat and other; both
        # vocabulary tensors keep the 40 rows every source has, and the config's chat template reaches tokenizer_config.json.
        $config = New-Config 'cut-slices.yml' @'
merge_method: linear
base_model: base
slices:
  - sources:
      - model: base
        layer_range: [0, 1]
        parameters: {weight: 0.0}
      - model: chat
        layer_range: [0, 1]
        parameters: {weight: 0.25}
      - model: other
        layer_range: [0, 1]
        parameters: {weight: 0.75}
  - sources:
      - model: base
        layer_range: [1, 2]
        parameters: {weight: 0.0}
      - model: chat
        layer_range: [1, 2]
        parameters: {weight: 0.5}
      - model: other
        layer_range: [1, 2]
        parameters: {weight: 0.5}
chat_template: chatml
dtype: float32
'@
        $out = Join-Path $TestDrive 'cut-slices'
        Import-MergeConfig $config -WarningVariable warnings -WarningAction SilentlyContinue | Export-SafeTensor $out
        ($warnings -join "`n") | Should -Match "tensor 'lm_head.weight': linear merges the 40 rows every model has \(the base source 'base' \[40, 16\], 'chat' \[44, 16\], 'other' \[42, 16\]\)"
        (Get-Content (Join-Path $out 'config.json') -Raw | ConvertFrom-Json).vocab_size | Should -Be 40
        (Get-Content (Join-Path $out 'tokenizer_config.json') -Raw | ConvertFrom-Json).chat_template | Should -Match '<\|im_start\|>'
        $written = Read-IndependentTensors $out
        foreach ($case in @{ Tensor = 'model.embed_tokens.weight'; Chat = 0.25; Other = 0.75 }, @{ Tensor = 'lm_head.weight'; Chat = 0.5; Other = 0.5 }) {
            $tensor = $case.Tensor
            $written[$tensor].Count | Should -Be (40 * $hidden)
            for ($i = 0; $i -lt 40 * $hidden; $i++) {
                $expected = $case.Chat * $values.chat[$tensor][$i] + $case.Other * $values.other[$tensor][$i]
                [math]::Abs($written[$tensor][$i] - $expected) | Should -BeLessOrEqual 1e-6 -Because "$tensor element $i"
            }
        }
    }
}

Describe 'Import-MergeConfig chat_template names' -Tag 'Config' {
    BeforeAll {
        # @huggingface/jinja renders templates as transformers does (trim_blocks, lstrip_blocks); installed from npm once per run.
        $script:jinjaFolder = Join-Path $TestDrive 'jinja'
        $script:jinjaMissing = $null
        if (-not (Get-Command node -ErrorAction Ignore) -or -not (Get-Command npm -ErrorAction Ignore)) { $jinjaMissing = 'node and npm are not installed' }
        else {
            $null = New-Item -ItemType Directory $jinjaFolder
            $npmOutput = & npm install --prefix $jinjaFolder --no-audit --no-fund '@huggingface/jinja@0.5' 2>&1
            if ($LASTEXITCODE -ne 0) { $jinjaMissing = "npm could not install @huggingface/jinja: $npmOutput" }
        }
        if (-not $jinjaMissing) { Set-Content -LiteralPath (Join-Path $jinjaFolder 'render.mjs') -Value @'
import { Template } from "@huggingface/jinja";
import fs from "fs";
const input = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const template = new Template(input.template);
process.stdout.write(JSON.stringify(input.conversations.map(c => template.render({ messages: c.messages, add_generation_prompt: c.prompt, bos_token: "<s>", eos_token: "</s>" }))));
'@ }
        $script:conversation = @(
            @{ role = 'system'; content = 'Be brief.' }, @{ role = 'user'; content = 'Hi there' },
            @{ role = 'assistant'; content = 'Hello!' }, @{ role = 'user'; content = 'Capital of France?' })
        $script:noSystem = @(@{ role = 'user'; content = 'Hi there' }, @{ role = 'assistant'; content = 'Hello!' })

        # The template a config with chat_template: $Name writes, rendered for the conversation with and without a generation prompt and for one without a system message.
        function Get-Rendered([string] $Name) {
            $config = New-Config "template-$Name.yml" "merge_method: task_arithmetic`nbase_model: base`nmodels:`n  - model: chat`n    parameters: {weight: 1.0}`ntokenizer_source: base`nchat_template: $Name`n"
            $out = Join-Path $TestDrive "template-$Name"
            Import-MergeConfig $config | Export-SafeTensor $out
            $template = (Get-Content (Join-Path $out 'tokenizer_config.json') -Raw | ConvertFrom-Json).chat_template
            $conversationsFile = Join-Path $jinjaFolder "$Name.json"
            @{ template = $template; conversations = @(
                    @{ messages = $conversation; prompt = $false }, @{ messages = $conversation; prompt = $true }, @{ messages = $noSystem; prompt = $true }) } |
                ConvertTo-Json -Depth 6 | Set-Content -LiteralPath $conversationsFile
            Push-Location $jinjaFolder
            try { $rendered = & node (Join-Path $jinjaFolder 'render.mjs') $conversationsFile } finally { Pop-Location }
            $LASTEXITCODE | Should -Be 0
            , @($rendered | ConvertFrom-Json)
        }
    }

    It '<name> renders its format' -ForEach @(
        @{ name = 'chatml'; expected = @(
                "<|im_start|>system`nBe brief.<|im_end|>`n<|im_start|>user`nHi there<|im_end|>`n<|im_start|>assistant`nHello!<|im_end|>`n<|im_start|>user`nCapital of France?<|im_end|>`n"
                "<|im_start|>system`nBe brief.<|im_end|>`n<|im_start|>user`nHi there<|im_end|>`n<|im_start|>assistant`nHello!<|im_end|>`n<|im_start|>user`nCapital of France?<|im_end|>`n<|im_start|>assistant`n"
                "<|im_start|>user`nHi there<|im_end|>`n<|im_start|>assistant`nHello!<|im_end|>`n<|im_start|>assistant`n") }
        @{ name = 'llama3'; expected = @(
                "<s><|start_header_id|>system<|end_header_id|>`n`nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>`n`nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>`n`nHello!<|eot_id|><|start_header_id|>user<|end_header_id|>`n`nCapital of France?<|eot_id|>"
                "<s><|start_header_id|>system<|end_header_id|>`n`nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>`n`nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>`n`nHello!<|eot_id|><|start_header_id|>user<|end_header_id|>`n`nCapital of France?<|eot_id|><|start_header_id|>assistant<|end_header_id|>`n`n"
                "<s><|start_header_id|>user<|end_header_id|>`n`nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>`n`nHello!<|eot_id|><|start_header_id|>assistant<|end_header_id|>`n`n") }
        @{ name = 'mistral'; expected = @(
                "<s> [INST] Be brief.`n`nHi there [/INST] Hello!</s> [INST] Capital of France? [/INST]"
                "<s> [INST] Be brief.`n`nHi there [/INST] Hello!</s> [INST] Capital of France? [/INST]"
                "<s> [INST] Hi there [/INST] Hello!</s>") }
        @{ name = 'alpaca'; expected = @(
                "Be brief.`n`n### Instruction:`nHi there`n`n### Response:`nHello!`n`n### Instruction:`nCapital of France?"
                "Be brief.`n`n### Instruction:`nHi there`n`n### Response:`nHello!`n`n### Instruction:`nCapital of France?`n`n### Response:`n"
                "### Instruction:`nHi there`n`n### Response:`nHello!") }
        @{ name = 'exaone'; expected = @(
                "[|system|]Be brief.[|endofturn|]`n[|user|]Hi there`n[|assistant|]Hello![|endofturn|]`n[|user|]Capital of France?`n"
                "[|system|]Be brief.[|endofturn|]`n[|user|]Hi there`n[|assistant|]Hello![|endofturn|]`n[|user|]Capital of France?`n[|assistant|]"
                "[|system|][|endofturn|]`n[|user|]Hi there`n[|assistant|]Hello![|endofturn|]`n[|assistant|]") }
    ) {
        if ($jinjaMissing) { Set-ItResult -Skipped -Because $jinjaMissing; return }
        $rendered = Get-Rendered $name
        $rendered.Count | Should -Be 3
        for ($i = 0; $i -lt 3; $i++) { $rendered[$i] | Should -BeExactly $expected[$i] -Because "$name, conversation $i" }
    }

    It 'refuses a name that is not a built-in one, listing them' {
        $config = New-Config 'unknown-template.yml' "merge_method: task_arithmetic`nbase_model: base`nmodels:`n  - model: chat`ntokenizer_source: base`nchat_template: chatlm`n"
        $message = ({ Import-MergeConfig $config } | Should -Throw -ErrorId "MergeConfigInvalid,$ImportId" -PassThru).Exception.Message
        $message | Should -Match "'chatlm' is neither .* a built-in name \(chatml, llama3, mistral, alpaca, exaone\); did you mean 'chatml'\?"
    }
}
