using System.Security.Cryptography;
using System.Text;

namespace Tollgate.Server.Inventory;

/// <summary>What an API token may do: read the inventory, or also upload SBOMs.</summary>
public enum TokenScope
{
    Read,
    Write,
}

/// <summary>One line of the tokens file: a name, a scope and the SHA-256 of the token (the token itself is never stored).</summary>
public sealed record ApiToken(string Name, TokenScope Scope, string Sha256);

/// <summary>
/// The inventory server's API tokens, read from a text file of <c>NAME SCOPE SHA256</c> lines (<c>#</c> starts a
/// comment). Tokens are 32 random bytes, so a plain SHA-256 is enough to make a stolen file useless.
/// </summary>
public sealed class ApiTokens
{
    private const string Prefix = "tgi_";
    private readonly IReadOnlyList<ApiToken> _tokens;

    private ApiTokens(IReadOnlyList<ApiToken> tokens) => _tokens = tokens;

    public static ApiTokens None { get; } = new([]);

    public int Count => _tokens.Count;

    /// <summary>Reads the file; a malformed line is an error naming the file and line.</summary>
    public static bool TryLoad(string path, out ApiTokens tokens, out string? error)
    {
        tokens = None;
        error = null;
        var list = new List<ApiToken>();
        var lineNumber = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 3 || !TryScope(parts[1], out var scope) || parts[2].Length != 64 || !parts[2].All(char.IsAsciiHexDigitLower))
            {
                error = $"{path}:{lineNumber}: expected 'NAME read|write SHA256' (64 lower-case hex digits), as `tollgate serve new-token` writes";
                return false;
            }
            list.Add(new ApiToken(parts[0], scope, parts[2]));
        }
        tokens = new ApiTokens(list);
        return true;
    }

    public static bool TryScope(string text, out TokenScope scope)
    {
        switch (text)
        {
            case "read":
                scope = TokenScope.Read;
                return true;
            case "write":
                scope = TokenScope.Write;
                return true;
            default:
                scope = default;
                return false;
        }
    }

    /// <summary>Makes a new token: returns the secret (shown once) and the line to append to the tokens file.</summary>
    public static (string Token, ApiToken Entry) Create(string name, TokenScope scope)
    {
        var token = Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        return (token, new ApiToken(name, scope, Hash(token)));
    }

    public static string Line(ApiToken token) =>
        $"{token.Name} {(token.Scope == TokenScope.Write ? "write" : "read")} {token.Sha256}";

    /// <summary>The token a bearer value names, or null when none does (compared in constant time).</summary>
    public ApiToken? Find(string presented)
    {
        var hash = Encoding.ASCII.GetBytes(Hash(presented));
        ApiToken? found = null;
        foreach (var t in _tokens)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, Encoding.ASCII.GetBytes(t.Sha256)))
            {
                found = t;
            }
        }
        return found;
    }

    private static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
