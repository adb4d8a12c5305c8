using System.Globalization;
using ChatVector.Benchmarks;

// Streaming merge benchmark. Each measurement runs in a child process so its CPU time and peak RSS (VmHWM) are its own.
//   dotnet run -c Release                          1 and 2 GB per model, hidden 2048, realistic deltas, every method
//   dotnet run -c Release -- --sizes 1,8           other sizes, in GB per model
//   dotnet run -c Release -- --shape llama7b       LLaMA-7B layers (hidden 4096, intermediate 11008); h2048,llama7b for both
//   dotnet run -c Release -- --kind independent    three independent random models (the older generator); realistic,independent for both
//   dotnet run -c Release -- --delta-ulps 0.5,1.5,4  width of the realistic deltas in bf16 steps (default 1.5): how tied chat − base is
//   dotnet run -c Release -- --methods add,ties    some methods only (add, lora, ties, dare-ties, breadcrumbs-ties, della-ties, and those run
//                                                  from a mergekit config: slerp, nuslerp, multislerp, karcher, model_stock, nearswap,
//                                                  arcee_fusion, sce, ram; `config` for all of these)
//   dotnet run -c Release -- --cache cold          every run starts with the inputs out of the page cache (default warm: read just before)
//   dotnet run -c Release -- --pwsh                also run each method as one pwsh process (start-up timed in a process of its own)
//   dotnet run -c Release -- --repeats 1           runs per figure (default 3; medians)
//   dotnet run -c Release -- --keep                keep the generated trios (they are deleted after each trio otherwise)
//   dotnet run -c Release -- --work <folder>       where the trios go (default: $TMPDIR/chatvector-bench)
//   dotnet run -c Release -- infer                 perplexity of 256 tokens and greedy generation of 32 tokens on cp
//                                                  of the 1 GB trio (--sizes as above; --model <folder> for any model)
//   dotnet run -c Release -- lora-bench            Export-LoraAdapter's extraction at rank 64 of the 1 GB llama7b trio against its I/O floor
//                                                  (--sizes 1,8 --rank 64 --shape llama7b --no-accuracy --keep --work as above)
//   dotnet run -c Release -- config-bench          Import-MergeConfig's own cost (read, resolve, check) on 7B-shaped configs, headers only
//                                                  (--repeats 5 --pwsh --work as above)
//   (children: lora <dir> <rank> | lora-read <dir> | lora-floor <dir> <rank> | lora-accuracy <dir> <rank> | config-plan <yml> <repeats> | gen <dir> <gb> [<shape> <kind> <delta-ulps>] | merge <dir> <method> | floor <dir> | floor-direct <dir> | perplexity <model> | generate <model>)
static double Number(string text) => double.Parse(text, CultureInfo.InvariantCulture);

return args switch
{
    ["infer", .. var rest] => InferenceBench.Run(rest),
    ["lora-bench", .. var rest] => LoraBench.Run(rest),
    ["lora", var dir, var rank] => LoraBench.Export(dir, int.Parse(rank, CultureInfo.InvariantCulture)),
    ["lora-read", var dir] => LoraBench.ReadOnly(dir),
    ["lora-floor", var dir, var rank] => LoraBench.Floor(dir, int.Parse(rank, CultureInfo.InvariantCulture)),
    ["lora-accuracy", var dir, var rank] => LoraBench.Accuracy(dir, int.Parse(rank, CultureInfo.InvariantCulture)),
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
