using System.Management.Automation;
using ChatVector.Core.Runtime;
using ChatVector.PowerShell.Infrastructure;

namespace ChatVector.PowerShell.Cmdlets;

/// <summary>
/// Get-ChatVectorRuntime [-Device cpu|cuda|cuda:N]: loads libtorch, checks the device and runs a
/// tiny bf16 -> float32 computation, proving the shipped natives load and compute.
/// </summary>
[Cmdlet(VerbsCommon.Get, "ChatVectorRuntime")]
[OutputType(typeof(RuntimeInfo))]
public sealed class GetChatVectorRuntimeCommand : ChatVectorCmdlet
{
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(DeviceCompleter))]
    public string Device { get; set; } = "cpu";

    protected override void EndProcessingCore()
    {
        TorchRuntimeReport report;
        try
        {
            report = TorchRuntimeReport.Collect(Device);
        }
        catch (ArgumentException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "InvalidDevice", ErrorCategory.InvalidArgument, Device));
            return;
        }
        catch (InvalidOperationException e)
        {
            // Natives missing/unloadable or the device is absent: nothing here can go on.
            ThrowTerminatingError(new ErrorRecord(e, "TorchRuntimeUnavailable", ErrorCategory.ResourceUnavailable, Device));
            return;
        }

        WriteObject(new RuntimeInfo
        {
            TorchSharpVersion = report.TorchSharpVersion,
            LibTorchVersion = report.LibTorchVersion,
            NativeDirectory = report.NativeDirectory,
            Device = report.Device,
            CudaAvailable = report.CudaAvailable,
            CudaDeviceCount = report.CudaDeviceCount,
            Threads = report.Threads,
            SelfTestValue = report.SelfTestValue,
            SelfTestPassed = report.SelfTestPassed,
            Build = BuildFlavor.Name,
            ReproducibleKernels = ReproducibleKernels.Pinned,
            SelfTest = report.SelfTestPassed
                ? "Passed"
                : $"Failed (got {report.SelfTestValue}, expected {TorchRuntimeReport.ExpectedSelfTestValue})",
        });
    }
}
