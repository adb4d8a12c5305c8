using System.Globalization;
using ChatVector.Benchmarks;

// Streaming merge benchmark. Each measurement runs in a child process so its CPU time and peak RSS (VmHWM) are its own.
//   dotnet run -c Release                          1 and 2 GB per model, hidden 2048, realistic deltas, every method
//   dotnet run -c Release -- --sizes 1,8           other sizes, in GB per model
//   dotnet run -c Release -- --shape llama7b       LLaMA-7B layers (hidden 4096, intermediate 11008); h2048,llama7b for both
//   dotnet run -c Release -- --kind independent    three independent random models (the older generator); realistic,independent for both
//   dotnet run -c Release -- --delta-ulps 0.5,1.5,4  width of the realistic deltas in bf16 steps (default 1.5): how tied chat − base is
//   dotnet run -c Release -- --methods add,ties    some methods only (add, ties, dare-ties, breadcrumbs-ties, della-ties, and those run
//                                                  from a mergekit config: slerp, nuslerp, multislerp, karcher, model_stock, nearswap,
//                                                  arcee_fusion, sce, ram; `config` for all of these)
//   dotnet run -c Release -- --cache cold          every run starts with the inputs out of the page cache (default warm: read just before)
//   dotnet run -c Release -- --pwsh                also run each method as one pwsh process (start-up timed in a process of its own)
//   dotnet run -c Release -- --repeats 1           runs per figure (default 3; medians)
//   dotnet run -c Release -- --keep                keep the generated trios (they are deleted after each trio otherwise)
//   dotnet run -c Release -- --work <folder>       where the trios go (default: $TMPDIR/chatvector-bench)
//   dotnet run -c Release -- infer                 perplexity of 256 tokens and greedy generation of 32 tokens on cp
//                                                  of the 1 GB trio (--sizes as above; --model <folder> for any model)
//   dotnet run -c Release -- config-bench          Import-MergeConfig's own cost (read, resolve, check) on 7B-shaped configs, headers only
//                                                  (--repeats 5 --pwsh --work as above)
//   (children: config-plan <yml> <repeats> | gen <dir> <gb> [<shape> <kind> <delta-ulps>] | merge <dir> <method> | floor <dir> | floor-direct <dir> | perplexity <model> | generate <model>)
static double Number(string text) => double.Parse(text, CultureInfo.InvariantCulture);

return args switch
{
    ["infer", .. var rest] => InferenceBench.Run(rest),
    ["config-bench", .. var rest] => ConfigBench.Run(rest),
    ["config-plan", var path, var repeats] => ConfigBench.Plan(path, int.Parse(repeats, CultureInfo.InvariantCulture)),
    ["perplexity", var model] => InferenceBench.Perplexity(model),
    ["generate", var model] => InferenceBench.Generate(model),
    ["gen", var dir, var gb] => Child.Generate(dir, new TrioSpec(ModelShape.H2048, TrioKind.Independent, Number(gb), TrioSpec.DefaultDeltaUlps)),
    ["gen", var dir, var gb, var shape, var kind, var ulps] => Child.Generate(dir, new TrioSpec(ModelShape.Parse(shape), TrioSpec.ParseKind(kind), Number(gb), Number(ulps))),
    ["merge", var dir, var method] => Child.Merge(dir, MergeMethods.Parse(method)),
    ["floor", var dir] => Child.Floor(dir, direct: false),
    ["floor-direct", var dir] => Child.Floor(dir, direct: true),
    _ => Driver.Run(args),
};
