using System.Diagnostics;
using ChatVector.Benchmarks;

// Streaming merge benchmark. Each measurement runs in a child process so its peak RSS (VmHWM) is its own.
//   dotnet run -c Release                      two sizes (1 and 2 GB per model), prints the table
//   dotnet run -c Release -- --sizes 1,4       other sizes, in GB per model
//   (children: gen <dir> <gb> | merge <dir> | floor <dir>)
return args switch
{
    ["gen", var dir, var gb] => Child.Generate(dir, double.Parse(gb, System.Globalization.CultureInfo.InvariantCulture)),
    ["merge", var dir] => Child.Merge(dir),
    ["floor", var dir] => Child.Floor(dir),
    _ => Driver.Run(args),
};
