using ChatVector.Benchmarks;

// Streaming merge benchmark. Each measurement runs in a child process so its peak RSS (VmHWM) is its own.
//   dotnet run -c Release                          sizes 1 and 2 GB per model, every method, prints a table per method
//   dotnet run -c Release -- --sizes 1,8           other sizes, in GB per model
//   dotnet run -c Release -- --methods add,ties    some methods only (add, ties, dare-ties)
//   dotnet run -c Release -- --cache cold          every run starts with the inputs out of the page cache (default warm: read just before)
//   dotnet run -c Release -- --keep                keep the generated trios (they are deleted after each size otherwise)
//   dotnet run -c Release -- infer                 perplexity of 256 tokens and greedy generation of 32 tokens on cp
//                                                  of the 1 GB trio (--sizes as above; --model <folder> for any model)
//   (children: gen <dir> <gb> | merge <dir> <method> | floor <dir> | perplexity <model> | generate <model>)
return args switch
{
    ["infer", .. var rest] => InferenceBench.Run(rest),
    ["perplexity", var model] => InferenceBench.Perplexity(model),
    ["generate", var model] => InferenceBench.Generate(model),
    ["gen", var dir, var gb] => Child.Generate(dir, double.Parse(gb, System.Globalization.CultureInfo.InvariantCulture)),
    ["merge", var dir, var method] => Child.Merge(dir, MergeMethods.Parse(method)),
    ["floor", var dir] => Child.Floor(dir),
    _ => Driver.Run(args),
};
