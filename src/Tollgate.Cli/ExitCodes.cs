namespace Tollgate.Cli;

/// <summary>The process exit codes, the same for every command.</summary>
internal static class ExitCodes
{
    /// <summary>Everything passed.</summary>
    public const int Pass = 0;
    /// <summary>The policy failed: findings at or above the threshold.</summary>
    public const int PolicyFailed = 1;
    /// <summary>Bad usage or an input that could not be read.</summary>
    public const int InputError = 2;
    /// <summary>A bug or an unexpected failure inside Tollgate.</summary>
    public const int InternalError = 3;
}
