using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Tollgate.Bench;

/// <summary>
/// Makes a lockfile N times larger by adding N-1 renamed copies of every package ("c1-lodash", "@s/c1-x"),
/// so the graph has N times the components and edges and the file stays valid for its format.
/// </summary>
internal static partial class LockfileScaler
{
    public static string Scale(string fileName, string text, int factor) => factor == 1 ? text : fileName switch
    {
        _ when fileName.EndsWith("package-lock.json", StringComparison.Ordinal) => ScalePackageLock(text, factor),
        _ when fileName.EndsWith("bun.lock", StringComparison.Ordinal) => ScaleBun(text, factor),
        _ when fileName.EndsWith("yarn.lock", StringComparison.Ordinal) => ScaleYarn(text, factor),
        _ when fileName.EndsWith("pnpm-lock.yaml", StringComparison.Ordinal) => ScalePnpm(text, factor),
        _ => throw new NotSupportedException(fileName),
    };

    private static string Rename(string name, int copy)
    {
        if (name.StartsWith('@'))
        {
            var slash = name.IndexOf('/', StringComparison.Ordinal);
            return $"{name[..(slash + 1)]}c{copy}-{name[(slash + 1)..]}";
        }
        return $"c{copy}-{name}";
    }

    private static string RenamePath(string path, int copy) =>
        // node_modules/a/node_modules/@s/b → node_modules/c1-a/node_modules/@s/c1-b
        string.Join("/node_modules/", path.Split("/node_modules/").Select(part =>
            part.StartsWith("node_modules/", StringComparison.Ordinal)
                ? "node_modules/" + Rename(part["node_modules/".Length..], copy)
                : part));

    private static void RenameDependencyMaps(JsonObject entry, int copy)
    {
        foreach (var field in new[] { "dependencies", "devDependencies", "optionalDependencies", "peerDependencies", "requires" })
        {
            if (entry[field] is JsonObject deps)
            {
                var renamed = new JsonObject();
                foreach (var (k, v) in deps.ToList())
                {
                    deps.Remove(k);
                    renamed[Rename(k, copy)] = v;
                }
                entry[field] = renamed;
            }
        }
    }

    private static string ScalePackageLock(string text, int factor)
    {
        var root = JsonNode.Parse(text)!.AsObject();
        var packages = root["packages"]!.AsObject();
        var originals = packages.Where(p => p.Key.Length > 0).Select(p => (p.Key, Value: p.Value!.ToJsonString())).ToList();
        var rootEntry = packages[""]!.AsObject();
        var rootDeps = rootEntry["dependencies"] as JsonObject;
        var originalRootDeps = rootDeps?.ToList().Select(p => (p.Key, p.Value!.ToJsonString())).ToList() ?? [];
        root.Remove("dependencies");
        for (var copy = 1; copy < factor; copy++)
        {
            foreach (var (key, value) in originals)
            {
                if (!key.Contains("node_modules/", StringComparison.Ordinal))
                {
                    continue;
                }
                var entry = JsonNode.Parse(value)!.AsObject();
                RenameDependencyMaps(entry, copy);
                if (entry["name"] is JsonValue)
                {
                    entry.Remove("name");
                }
                packages[RenamePath(key, copy)] = entry;
            }
            foreach (var (k, v) in originalRootDeps)
            {
                rootDeps![Rename(k, copy)] = JsonNode.Parse(v);
            }
        }
        return root.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }

    private static string ScaleBun(string text, int factor)
    {
        var options = new System.Text.Json.JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = System.Text.Json.JsonCommentHandling.Skip };
        var root = JsonNode.Parse(text, documentOptions: options)!.AsObject();
        var packages = root["packages"]!.AsObject();
        var originals = packages.Select(p => (p.Key, Value: p.Value!.ToJsonString())).ToList();
        var workspace = root["workspaces"]![""]!.AsObject();
        var originalWorkspace = workspace.ToJsonString();
        for (var copy = 1; copy < factor; copy++)
        {
            foreach (var (key, value) in originals)
            {
                var entry = JsonNode.Parse(value)!.AsArray();
                var spec = entry[0]!.GetValue<string>();
                var at = spec.LastIndexOf('@');
                entry[0] = Rename(spec[..at], copy) + spec[at..];
                if (entry.Count > 2 && entry[2] is JsonObject meta)
                {
                    RenameDependencyMaps(meta, copy);
                }
                packages[string.Join('/', SplitBunKey(key).Select(n => Rename(n, copy)))] = entry;
            }
            var ws = JsonNode.Parse(originalWorkspace)!.AsObject();
            RenameDependencyMaps(ws, copy);
            foreach (var field in new[] { "dependencies", "devDependencies", "optionalDependencies", "peerDependencies" })
            {
                if (ws[field] is JsonObject deps)
                {
                    var target = workspace[field] as JsonObject ?? [];
                    foreach (var (k, v) in deps.ToList())
                    {
                        deps.Remove(k);
                        target[k] = v;
                    }
                    workspace[field] = target;
                }
            }
        }
        return root.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }

    private static IEnumerable<string> SplitBunKey(string key)
    {
        // "a/@s/b/c": names separated by '/', scoped names span two segments.
        var parts = key.Split('/');
        for (var i = 0; i < parts.Length; i++)
        {
            yield return parts[i].StartsWith('@') && i + 1 < parts.Length ? parts[i] + "/" + parts[++i] : parts[i];
        }
    }

    [GeneratedRegex("""(?<=^|[\s"',(/])(@[a-z0-9._-]+/)?([a-z0-9][a-z0-9._-]*)(?=@)""", RegexOptions.Multiline)]
    private static partial Regex NameBeforeAt();

    [GeneratedRegex("""^(\s+)("?)(@[a-z0-9._-]+/)?([a-z0-9][a-zA-Z0-9._-]*)("?)(:?\s)""", RegexOptions.Multiline)]
    private static partial Regex IndentedName();

    /// <summary>Renames every "name@" and every indented "name: …"/"name …" dependency line in an entry block.</summary>
    private static string RenameBlock(string block, int copy)
    {
        block = NameBeforeAt().Replace(block, m => m.Groups[1].Value + $"c{copy}-" + m.Groups[2].Value);
        return IndentedName().Replace(block, m =>
        {
            var indent = m.Groups[1].Value;
            // Only dependency lines (deeper than the entry's own fields) are names.
            return indent.Length >= 4 && !IsField(m.Groups[4].Value)
                ? indent + m.Groups[2].Value + m.Groups[3].Value + $"c{copy}-" + m.Groups[4].Value + m.Groups[5].Value + m.Groups[6].Value
                : m.Value;
        });
    }

    private static bool IsField(string word) => word is "version" or "resolved" or "integrity" or "dependencies" or "optionalDependencies"
        or "peerDependencies" or "peerDependenciesMeta" or "dependenciesMeta" or "checksum" or "languageName" or "linkType"
        or "resolution" or "engines" or "cpu" or "os" or "hasBin" or "bin" or "optional" or "dev" or "requiresBuild"
        or "transitivePeerDependencies" or "deprecated" or "libc" or "conditions" or "specifier" or "tarball" or "node";

    private static string ScaleYarn(string text, int factor) => ScaleBlocks(text, factor, block => !block.StartsWith("__metadata", StringComparison.Ordinal) && !block.Contains("@workspace:", StringComparison.Ordinal) && !block.StartsWith('#'));

    private static string ScalePnpm(string text, int factor)
    {
        // pnpm: packages and snapshots entries are blocks indented by two spaces under their section.
        var sb = new StringBuilder();
        var sections = Regex.Split(text, @"(?m)^(?=\S)");
        foreach (var section in sections)
        {
            sb.Append(section);
            if (section.StartsWith("packages:", StringComparison.Ordinal) || section.StartsWith("snapshots:", StringComparison.Ordinal))
            {
                var body = section[(section.IndexOf('\n', StringComparison.Ordinal) + 1)..];
                var blocks = Regex.Split(body, @"(?m)^(?=  \S)").Where(b => b.Trim().Length > 0).ToList();
                for (var copy = 1; copy < factor; copy++)
                {
                    foreach (var block in blocks)
                    {
                        sb.Append(RenamePnpmBlock(block, copy));
                    }
                }
            }
        }
        return sb.ToString();
    }

    private static string RenamePnpmBlock(string block, int copy)
    {
        var lines = block.Split('\n');
        // The key: "  name@1.0.0:" or "  '@s/name@1.0.0':" or "  /name/1.0.0:" (lockfile 5)
        lines[0] = Regex.Replace(lines[0], @"^(  '?/?)(@[^/]+/)?([^@/'(]+)", m => m.Groups[1].Value + m.Groups[2].Value + $"c{copy}-" + m.Groups[3].Value);
        for (var i = 1; i < lines.Length; i++)
        {
            lines[i] = Regex.Replace(lines[i], @"^(      '?)(@[^/]+/)?([^:@'/ ]+)('?:)", m => m.Groups[1].Value + m.Groups[2].Value + $"c{copy}-" + m.Groups[3].Value + m.Groups[4].Value);
        }
        return string.Join('\n', lines);
    }

    private static string ScaleBlocks(string text, int factor, Func<string, bool> copyable)
    {
        var blocks = Regex.Split(text, @"(?m)^(?=\S)");
        var sb = new StringBuilder(text);
        for (var copy = 1; copy < factor; copy++)
        {
            foreach (var block in blocks.Where(b => b.Trim().Length > 0 && copyable(b)))
            {
                sb.Append('\n').Append(RenameBlock(block, copy));
            }
        }
        return sb.ToString();
    }
}
