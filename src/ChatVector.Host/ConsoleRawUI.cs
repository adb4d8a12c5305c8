using System.Management.Automation.Host;

namespace ChatVector.Host;

/// <summary>Just enough of a raw console for the formatter: it asks for the width to lay out tables.
/// Redirected output gets a fixed, wide buffer so tables are not truncated in logs.</summary>
internal sealed class ConsoleRawUI : PSHostRawUserInterface
{
    private const int RedirectedWidth = 160;

    private static int Width
    {
        get
        {
            if (Console.IsOutputRedirected) return RedirectedWidth;
            try { return Math.Max(40, Console.WindowWidth); } catch (IOException) { return RedirectedWidth; }
        }
    }

    public override ConsoleColor BackgroundColor { get; set; } = ConsoleColor.Black;
    public override ConsoleColor ForegroundColor { get; set; } = ConsoleColor.Gray;
    public override Size BufferSize { get => new(Width, 9999); set { } }
    public override Coordinates CursorPosition { get; set; }
    public override int CursorSize { get; set; } = 1;
    public override bool KeyAvailable => false;
    public override Size MaxPhysicalWindowSize => new(Width, 9999);
    public override Size MaxWindowSize => new(Width, 9999);
    public override Coordinates WindowPosition { get; set; }
    public override Size WindowSize { get => new(Width, 50); set { } }
    public override string WindowTitle { get; set; } = "cvhost";

    public override void FlushInputBuffer() { }
    public override KeyInfo ReadKey(ReadKeyOptions options) => throw new NotSupportedException("cvhost does not read keys.");
    public override BufferCell[,] GetBufferContents(Rectangle rectangle) => throw new NotSupportedException();
    public override void ScrollBufferContents(Rectangle source, Coordinates destination, Rectangle clip, BufferCell fill) { }
    public override void SetBufferContents(Coordinates origin, BufferCell[,] contents) { }
    public override void SetBufferContents(Rectangle rectangle, BufferCell fill) { }
}
