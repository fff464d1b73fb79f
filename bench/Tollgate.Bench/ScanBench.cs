namespace Tollgate.Bench;

internal static class ScanBench
{
    public static int Run(string[] args)
    {
        _ = args;
        return 2;
    }
}
