using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Tollgate.Ecosystems.Npm;
using Tollgate.Graph;

namespace Tollgate.Server.Feeds.Npm;

/// <summary>
/// The storage folder's layout: cached packuments (with their HTTP validators), verified tarballs, private
/// packages, and a temporary folder. Every file is written to a temporary name first and renamed into place, so a
/// reader never sees half a file and a stopped server leaves only temporary files behind.
/// </summary>
internal sealed class FeedStorage
{
    public FeedStorage(string root)
    {
        Root = Path.GetFullPath(root);
        Temp = Path.Combine(Root, "tmp");
        Directory.CreateDirectory(Temp);
        // Whatever an interrupted run left in tmp/ was never renamed into place: it is not trusted and not needed.
        foreach (var stale in Directory.EnumerateFiles(Temp))
        {
            File.Delete(stale);
        }
    }

    public string Root { get; }

    public string Temp { get; }

    /// <summary>A file-name-safe key for a package: '/' cannot appear in a file name and '%' cannot appear in an npm name.</summary>
    public static string Key(string name) => name.Replace("/", "%2f", StringComparison.Ordinal);

    /// <summary>A cached upstream tarball, by the file name the client asked for (checked by <see cref="NpmRequestPath"/>).</summary>
    public string TarballFile(string name, string file) => Inside("tarballs", NameKey(name), file);

    public string PrivatePackumentFile(string name) => Inside("private", NameKey(name), "packument.json");

    /// <summary>
    /// A published tarball. Its path is a function of the package name and the version only, never of anything else a
    /// publish body says, so no publish can name the file of another version.
    /// </summary>
    public string PrivateTarballFile(string name, NpmVersion version) => Inside("private", NameKey(name), PrivateTarballName(name, version));

    /// <summary>npm's file name for a version's tarball: <c>name-version.tgz</c> with the scope left out.</summary>
    public static string PrivateTarballName(string name, NpmVersion version)
    {
        var unscoped = name.Contains('/', StringComparison.Ordinal) ? name[(name.IndexOf('/', StringComparison.Ordinal) + 1)..] : name;
        return $"{unscoped}-{version.Normalized}.tgz";
    }

    /// <summary>The key of a name the request parser (or the publish checks) accepted; anything else is a bug.</summary>
    internal static string NameKey(string name) =>
        NpmRequestPath.IsValidName(name, out var error) ? Key(name) : throw new StoragePathException(error);

    /// <summary>
    /// Joins single path segments under the root and checks the full path stays inside it. The callers check names,
    /// versions and file names first; this is the last line, so a check missed there can never reach another file.
    /// </summary>
    internal string Inside(params string[] segments)
    {
        foreach (var segment in segments)
        {
            if (segment.Length == 0 || segment is "." or ".." || segment.Any(c => c is '/' or '\\' or ':' || char.IsControl(c)))
            {
                throw new StoragePathException($"'{segment}' is not a file name the feed stores");
            }
        }
        var path = Path.GetFullPath(Path.Combine([Root, .. segments]));
        if (!path.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new StoragePathException($"'{Path.Combine(segments)}' lies outside the storage folder");
        }
        return path;
    }

    public string NewTempFile() => Path.Combine(Temp, Guid.NewGuid().ToString("N") + ".part");

    /// <summary>Writes bytes to a temporary file and renames it over <paramref name="path"/>.</summary>
    public void WriteAtomically(string path, ReadOnlySpan<byte> bytes)
    {
        var temp = NewTempFile();
        File.WriteAllBytes(temp, bytes.ToArray());
        MoveIntoPlace(temp, path);
    }

    public static void MoveIntoPlace(string temp, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Move(temp, path, overwrite: true);
    }

    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Another request may hold it open; tmp/ is emptied on the next start.
        }
    }
}

/// <summary>
/// A storage path that would leave its folder or is built from a part no check accepted. The request and publish checks
/// come first, so this is never an expected outcome; the feed answers it with a refusal, not with the file.
/// </summary>
internal sealed class StoragePathException(string message) : Exception(message);

/// <summary>Checks a tarball's hashes against the packument's <c>dist.integrity</c> (SRI) or <c>dist.shasum</c>.</summary>
internal static class TarballIntegrity
{
    /// <summary>Null when the hashes match what <paramref name="dist"/> declares; else why not.</summary>
    public static string? Check(JsonObject? dist, byte[] sha512, byte[] sha1)
    {
        var sri = dist?["integrity"] is JsonValue i && i.TryGetValue<string>(out var s) ? s : null;
        var declared512 = IntegrityHash.ParseSri(sri).Where(h => h.Algorithm == "sha512").ToList();
        if (declared512.Count > 0)
        {
            var actual = Convert.ToBase64String(sha512);
            return declared512.Any(h => string.Equals(h.Value, actual, StringComparison.Ordinal))
                ? null
                : $"the tarball's sha512 ({actual[..12]}…) does not match dist.integrity";
        }
        var shasum = dist?["shasum"] is JsonValue h1 && h1.TryGetValue<string>(out var hex) ? hex : null;
        if (shasum is not null)
        {
            return string.Equals(shasum, Convert.ToHexStringLower(sha1), StringComparison.OrdinalIgnoreCase)
                ? null
                : "the tarball's sha1 does not match dist.shasum";
        }
        return "the packument declares no dist.integrity or dist.shasum for this tarball";
    }

    /// <summary>Hashes a file that is already stored.</summary>
    public static (byte[] Sha512, byte[] Sha1) HashFile(string path)
    {
        using var stream = File.OpenRead(path);
        var sha512 = SHA512.HashData(stream);
        stream.Position = 0;
        var sha1 = SHA1.HashData(stream);
        return (sha512, sha1);
    }

    /// <summary>Hashes bytes in memory.</summary>
    public static (byte[] Sha512, byte[] Sha1) Hash(byte[] data) => (SHA512.HashData(data), SHA1.HashData(data));

    /// <summary>SRI sha512 and hex sha1 of bytes, as a publish stores them.</summary>
    public static (string Integrity, string Shasum) Describe(byte[] data) =>
        ("sha512-" + Convert.ToBase64String(SHA512.HashData(data)), Convert.ToHexStringLower(SHA1.HashData(data)));
}
