using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Tollgate.Cli;

/// <summary>
/// Gives back to the operating system the pages of the executable that only start-up needed.
/// </summary>
/// <remarks>
/// The NativeAOT build starts by unpacking its runtime data from a compressed copy in its read-only section (about
/// 10 MB, read once), and by running the code that builds the command tree. Those file pages stay counted in the
/// process's memory until it ends. Once the command line is parsed they are dropped with <c>madvise(MADV_DONTNEED)</c>:
/// for read-only pages of a file mapping that only means the next access (if any) reads them again from the page
/// cache, so the command's own code and data come back as it runs and nothing else does. Only pages that are still
/// the file's bytes are dropped (read from <c>/proc/self/pagemap</c>). Linux only, NativeAOT only (the JIT build maps
/// no code from the executable); any failure leaves the pages where they are.
/// </remarks>
internal static partial class StartupPages
{
    private const int MadviseDontNeed = 4;

    public static void Release()
    {
        if (!OperatingSystem.IsLinux() || RuntimeFeature.IsDynamicCodeSupported || Environment.ProcessPath is not { } exe)
        {
            return;
        }
        try
        {
            var target = File.ResolveLinkTarget(exe, returnFinalTarget: true)?.FullName ?? Path.GetFullPath(exe);
            using var pagemap = new FileStream("/proc/self/pagemap", FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                // start-end perms offset dev inode path
                var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 6 || fields[1] is not ("r--p" or "r-xp") || fields[5] != target)
                {
                    continue;
                }
                var range = fields[0].Split('-');
                if (range.Length == 2
                    && ulong.TryParse(range[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var start)
                    && ulong.TryParse(range[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var end)
                    && end > start)
                {
                    ReleaseFilePages(pagemap, start, end);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DllNotFoundException or EntryPointNotFoundException)
        {
        }
    }

    /// <summary>
    /// Drops the pages of <c>[start, end)</c> that are in memory and still the file's own bytes. A page the loader
    /// wrote before making it read-only (relocations, RELRO) is a private copy; dropping it would bring back the
    /// unrelocated file bytes, so such pages (and any whose state cannot be read) stay.
    /// </summary>
    private static void ReleaseFilePages(FileStream pagemap, ulong start, ulong end)
    {
        const ulong Present = 1UL << 63, FileBacked = 1UL << 61;
        var pageSize = (ulong)Environment.SystemPageSize;
        var pages = (int)((end - start) / pageSize);
        var entries = new byte[pages * 8];
        pagemap.Position = (long)(start / pageSize * 8);
        pagemap.ReadExactly(entries);
        var runStart = -1;
        for (var i = 0; i <= pages; i++)
        {
            var droppable = i < pages && (BitConverter.ToUInt64(entries, i * 8) & (Present | FileBacked)) == (Present | FileBacked);
            if (droppable && runStart < 0)
            {
                runStart = i;
            }
            else if (!droppable && runStart >= 0)
            {
                _ = Madvise((nint)(start + ((ulong)runStart * pageSize)), (nuint)((ulong)(i - runStart) * pageSize), MadviseDontNeed);
                runStart = -1;
            }
        }
    }

    [DllImport("libc", EntryPoint = "madvise")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Madvise(nint address, nuint length, int advice);
}
