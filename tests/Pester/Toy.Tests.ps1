BeforeAll { . (Join-Path $PSScriptRoot 'TestHelpers.ps1') }

# The reduced toy experiment (examples/toy-chat-vector.ps1 -Size ci: the full training, half the evaluation
# sets; about 2 minutes): trains the four tiny models, merges through the cmdlets and evaluates on held-out B
# prompts. Asserts only what held for seeds 1-3 (README, "Chat Vector at toy scale"): cp answered in format
# 0, 0, 0 %; the best ratio of cp + r·v 76.5, 80.5, 37 %; chat's B perplexity was above 10^5, cp's about 8.
# Which ratio is best moved between seeds, so the margin is on the best of the sweep, below the smallest seen.
Describe 'The toy Chat Vector experiment, reduced' -Tag 'Toy' {
    BeforeAll {
        $script:output = Join-Path $TestDrive 'toy'
        $script:rows = & (Join-Path $RepoRoot 'examples/toy-chat-vector.ps1') -Size ci -Seed 1 -Output $output -NoBuild -PassThru 6>$null
        $script:cp = $rows | Where-Object { $_.Series -eq 'cp' -and $_.Ratio -eq 0 }
        $script:bestMerge = $rows | Where-Object { $_.Series -eq 'cp' -and $_.Ratio -gt 0 } | Sort-Object InFormat -Descending | Select-Object -First 1
        $script:chat = $rows | Where-Object Series -EQ 'chat'
    }

    It 'prints a row for cp and cp+FT at every ratio of the sweep, and for chat' {
        $rows.Count | Should -Be 12
        ($rows | Where-Object Series -EQ 'cp').Ratio | Should -Be @(0, 0.25, 0.5, 0.75, 1)
        ($rows | Where-Object Series -EQ 'cp+FT').Ratio | Should -Be @(0, 0.25, 0.5, 0.75, 1)
    }

    It 'cp alone never answers in format: it has never seen the chat format' {
        $cp.InFormat | Should -BeLessOrEqual 5
    }

    It 'cp + r chat vector, at the best ratio of the sweep, answers in format far more often than cp alone' {
        ($bestMerge.InFormat - $cp.InFormat) | Should -BeGreaterOrEqual 25
    }

    It 'cp models B text far better than chat does, which never saw B' {
        $cp.Perplexity * 100 | Should -BeLessThan $chat.Perplexity
    }

    It 'writes the sweep as a PNG chart' {
        $png = Join-Path $output 'toy-chat-vector.png'
        $png | Should -Exist
        [System.IO.File]::ReadAllBytes($png)[1..3] | Should -Be ([byte[]][char[]]'PNG')
    }
}
