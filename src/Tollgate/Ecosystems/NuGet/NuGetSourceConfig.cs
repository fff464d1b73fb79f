using System.Xml;
using System.Xml.Linq;

namespace Tollgate.Ecosystems.NuGet;

/// <summary>A package source from nuget.config: its key, URL and, when configured, credentials.</summary>
public sealed record NuGetSource(string Key, Uri Url, string? Authorization);

/// <summary>
/// The package sources dotnet restore uses, read from the nuget.config files it reads: every <c>nuget.config</c>
/// from the project folder up to the root (closest first), then the user's <c>~/.nuget/NuGet/NuGet.Config</c>.
/// <c>&lt;clear /&gt;</c>, <c>disabledPackageSources</c>, <c>packageSourceCredentials</c> (Username with
/// ClearTextPassword, <c>%VAR%</c> expanded) and <c>packageSourceMapping</c> are honoured.
/// </summary>
public sealed class NuGetSourceConfig
{
    private readonly List<NuGetSource> _sources;
    private readonly List<(string Pattern, string Key)> _mapping;

    private readonly List<(string Key, string Location)> _locations;

    private NuGetSourceConfig(List<NuGetSource> sources, List<(string, string)> mapping, List<(string, string)> locations)
    {
        _sources = sources;
        _mapping = mapping;
        _locations = locations;
    }

    /// <summary>True when the configuration has a packageSourceMapping.</summary>
    public bool HasMapping => _mapping.Count > 0;

    /// <summary>The enabled V3 (and other) sources in priority order.</summary>
    public IReadOnlyList<NuGetSource> Sources => _sources;

    public static NuGetSourceConfig Read(string? projectFolder, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var files = new List<string>();
        for (var folder = projectFolder is null ? null : new DirectoryInfo(Path.GetFullPath(projectFolder)); folder is not null; folder = folder.Parent)
        {
            foreach (var name in new[] { "nuget.config", "NuGet.config", "NuGet.Config" })
            {
                var candidate = Path.Combine(folder.FullName, name);
                if (File.Exists(candidate) && !files.Any(f => string.Equals(Path.GetFullPath(f), Path.GetFullPath(candidate), StringComparison.OrdinalIgnoreCase)
                    && new FileInfo(f).Length == new FileInfo(candidate).Length))
                {
                    files.Add(candidate);
                    break;
                }
            }
        }
        if (environment("HOME") is { Length: > 0 } home)
        {
            files.Add(Path.Combine(home, ".nuget", "NuGet", "NuGet.Config"));
        }
        var sources = new List<(string Key, string Value, string File)>();
        var disabled = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var credentials = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var mapping = new List<(string, string)>();
        var cleared = false;
        foreach (var file in files)
        {
            XDocument document;
            try
            {
                if (!File.Exists(file))
                {
                    continue;
                }
                document = XDocument.Load(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or XmlException)
            {
                continue;
            }
            var root = document.Root;
            if (root is null)
            {
                continue;
            }
            if (!cleared && root.Element("packageSources") is { } packageSources)
            {
                // Files are read closest first: a <clear /> drops the sources of the files read after this one.
                foreach (var element in packageSources.Elements())
                {
                    if (element.Name.LocalName == "clear")
                    {
                        cleared = true;
                        continue;
                    }
                    if (element.Name.LocalName == "add" && element.Attribute("key")?.Value is { } key && element.Attribute("value")?.Value is { } value
                        && !sources.Any(s => string.Equals(s.Key, key, StringComparison.OrdinalIgnoreCase)))
                    {
                        sources.Add((key, value, file));
                    }
                }
            }
            foreach (var element in root.Element("disabledPackageSources")?.Elements("add") ?? [])
            {
                if (element.Attribute("key")?.Value is { } key && element.Attribute("value")?.Value == "true")
                {
                    disabled.Add(key);
                }
            }
            foreach (var source in root.Element("packageSourceCredentials")?.Elements() ?? [])
            {
                var values = source.Elements("add").ToDictionary(a => a.Attribute("key")?.Value ?? "", a => a.Attribute("value")?.Value ?? "", StringComparer.OrdinalIgnoreCase);
                var key = XmlConvert.DecodeName(source.Name.LocalName);
                if (!credentials.ContainsKey(key) && values.TryGetValue("Username", out var user) && values.TryGetValue("ClearTextPassword", out var password))
                {
                    credentials[key] = "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(Expand(user, environment) + ":" + Expand(password, environment)));
                }
            }
            foreach (var source in root.Element("packageSourceMapping")?.Elements("packageSource") ?? [])
            {
                if (source.Attribute("key")?.Value is { } key)
                {
                    mapping.AddRange(source.Elements("package").Select(p => p.Attribute("pattern")?.Value).OfType<string>().Select(p => (p, key)));
                }
            }
        }
        var result = new List<NuGetSource>();
        var locations = new List<(string, string)>();
        foreach (var (key, value, file) in sources.Where(s => !disabled.Contains(s.Key)))
        {
            // Folder sources are relative to the configuration file that names them, as NuGet reads them.
            var isUrl = Uri.TryCreate(value, UriKind.Absolute, out var absolute) && !absolute.IsFile;
            locations.Add((key, isUrl ? value : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file))!, absolute?.IsFile == true ? absolute.LocalPath : value))));
        }
        foreach (var (key, value, _) in sources)
        {
            if (!disabled.Contains(key) && Uri.TryCreate(value, UriKind.Absolute, out var url) && url.Scheme is "http" or "https")
            {
                result.Add(new NuGetSource(key, url, credentials.GetValueOrDefault(key)));
            }
        }
        return new NuGetSourceConfig(result, mapping, locations);
    }

    /// <summary>
    /// The sources a package may come from: with source mapping, those whose most specific pattern matches the id
    /// (an exact id beats the longest prefix*); without mapping, every source.
    /// </summary>
    public IReadOnlyList<NuGetSource> SourcesFor(string packageId) =>
        _mapping.Count == 0 ? _sources : [.. _sources.Where(s => MappedKeys(packageId).Contains(s.Key))];

    /// <summary>
    /// Where the package source mapping lets <paramref name="packageId"/> come from: each mapped source's URL, or full
    /// folder path for a local folder source. Empty when there is no mapping or no pattern matches the id.
    /// </summary>
    public IReadOnlyList<string> MappedLocations(string packageId)
    {
        if (_mapping.Count == 0)
        {
            return [];
        }
        var keys = MappedKeys(packageId);
        return [.. _locations.Where(l => keys.Contains(l.Key)).Select(l => l.Location)];
    }

    private HashSet<string> MappedKeys(string packageId)
    {
        var best = -1;
        var keys = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (pattern, key) in _mapping)
        {
            int score;
            if (string.Equals(pattern, packageId, StringComparison.OrdinalIgnoreCase))
            {
                score = int.MaxValue;
            }
            else if (pattern.EndsWith('*') && packageId.StartsWith(pattern[..^1], StringComparison.OrdinalIgnoreCase))
            {
                score = pattern.Length;
            }
            else
            {
                continue;
            }
            if (score > best)
            {
                best = score;
                keys.Clear();
            }
            if (score == best)
            {
                keys.Add(key);
            }
        }
        return keys;
    }

    private static string Expand(string value, Func<string, string?> environment)
    {
        var start = value.IndexOf('%', StringComparison.Ordinal);
        while (start >= 0)
        {
            var end = value.IndexOf('%', start + 1);
            if (end < 0)
            {
                break;
            }
            var replacement = environment(value[(start + 1)..end]) ?? "";
            value = value[..start] + replacement + value[(end + 1)..];
            start = value.IndexOf('%', start + replacement.Length);
        }
        return value;
    }
}
