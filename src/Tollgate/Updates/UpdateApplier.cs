using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Tollgate.Ecosystems;
using Tollgate.Graph;

namespace Tollgate.Updates;

/// <summary>What happened to one proposal when applied.</summary>
public sealed record AppliedUpdate(DependencyUpdate Update, bool Applied, string Message);

/// <summary>Settings of <see cref="UpdateApplier"/>.</summary>
/// <param name="NpmRegistry">The npm registry to pass to npm (<c>--registry</c>), when one was given explicitly.</param>
/// <param name="Timeout">How long each package-manager run may take.</param>
/// <param name="Pnpm">How to start pnpm (default: <c>pnpm</c> on PATH).</param>
/// <param name="Yarn">How to start yarn, classic or berry (default: <c>yarn</c> on PATH, which follows the project's
/// <c>yarnPath</c> or corepack's <c>packageManager</c>).</param>
/// <param name="Bun">How to start bun (default: <c>bun</c> on PATH).</param>
public sealed record ApplySettings(
    Uri? NpmRegistry = null, TimeSpan? Timeout = null, IReadOnlyList<string>? Pnpm = null, IReadOnlyList<string>? Yarn = null, IReadOnlyList<string>? Bun = null);

/// <summary>
/// Writes proposals into manifests and lockfiles through the package managers themselves with scripts off: npm
/// (<c>npm install PKG@VER --package-lock-only --ignore-scripts</c>), pnpm (<c>pnpm add PKG@VER --lockfile-only
/// --ignore-scripts</c>), yarn 1 (<c>yarn add PKG@VER --ignore-scripts</c>, installing into a temporary modules
/// folder so the project's node_modules is left alone), yarn 2+ (<c>yarn up PKG@VER --mode=update-lockfile</c> with
/// scripts off), bun (<c>bun add PKG@VER --lockfile-only --ignore-scripts</c> on a text bun.lock), requirements files (<c>==</c> pins with the
/// registry's sha256 hashes as <c>--hash</c> lines), NuGet (<c>PackageVersion</c> in Directory.Packages.props or the
/// project's <c>PackageReference</c>, then <c>dotnet restore --force-evaluate</c> where lock files are used).
/// Every file a step may touch is copied first and put back when any step fails: nothing is left half-written.
/// </summary>
public sealed class UpdateApplier(Func<Ecosystem, string, PackageFacts?> facts, ApplySettings settings)
{
    private readonly Dictionary<string, byte[]?> _backups = new(StringComparer.Ordinal);

    /// <summary>Applies <paramref name="updates"/>; on the first failure every file is restored and the failure returned.</summary>
    public IReadOnlyList<AppliedUpdate> Apply(IReadOnlyList<DependencyUpdate> updates, out string? failure)
    {
        ArgumentNullException.ThrowIfNull(updates);
        var results = new List<AppliedUpdate>();
        failure = null;
        try
        {
            foreach (var project in updates.Where(u => u.Proposed is not null).GroupBy(u => (u.Ecosystem, u.Project)))
            {
                var list = project.ToList();
                failure = project.Key.Ecosystem switch
                {
                    Ecosystem.Npm => ApplyNpm(list),
                    Ecosystem.PyPI => ApplyRequirements(list),
                    Ecosystem.NuGet => ApplyNuGet(list),
                    _ => $"{project.Key.Ecosystem} updates cannot be applied",
                };
                if (failure is not null)
                {
                    Restore();
                    return [.. results.Select(r => r with { Applied = false, Message = "rolled back" })];
                }
                results.AddRange(list.Select(u => new AppliedUpdate(u, true, $"{u.Name} {u.Current} → {u.Proposed}")));
            }
        }
        catch
        {
            Restore();
            throw;
        }
        return results;
    }

    private void Backup(string path)
    {
        var full = Path.GetFullPath(path);
        if (!_backups.ContainsKey(full))
        {
            _backups[full] = File.Exists(full) ? File.ReadAllBytes(full) : null;
        }
    }

    private void Restore()
    {
        foreach (var (path, content) in _backups)
        {
            try
            {
                if (content is null)
                {
                    File.Delete(path);
                }
                else
                {
                    WriteAtomically(path, content);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Keep restoring the others; the caller reports the failure that started this.
            }
        }
    }

    private static void WriteAtomically(string path, byte[] content)
    {
        var temporary = path + ".tollgate-" + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        File.WriteAllBytes(temporary, content);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The lockfiles of the npm ecosystem, in the order one is chosen when a folder has several.</summary>
    private static readonly string[] s_npmLockfiles = ["package-lock.json", "pnpm-lock.yaml", "yarn.lock", "bun.lock", "bun.lockb"];

    private string? ApplyNpm(List<DependencyUpdate> updates)
    {
        var project = updates[0].Project;
        var folder = Path.GetDirectoryName(Path.GetFullPath(project ?? updates[0].Declared?.File ?? "."))!;
        // The lockfile the plan was read from decides the package manager; else the first one in the folder.
        var lockfile = project is not null && s_npmLockfiles.Contains(Path.GetFileName(project), StringComparer.Ordinal)
            ? Path.GetFileName(project)
            : s_npmLockfiles.FirstOrDefault(f => File.Exists(Path.Combine(folder, f)));
        switch (lockfile)
        {
            case null:
                return $"{folder} has no lockfile (package-lock.json, pnpm-lock.yaml, yarn.lock or bun.lock): --apply writes the manifest and the lockfile "
                    + "together through the package manager. Create the lockfile first (npm install --package-lock-only --ignore-scripts), then apply; nothing was changed";
            case "yarn.lock":
                return ApplyYarn(updates, folder);
            case "bun.lock" or "bun.lockb":
                return ApplyBun(updates, folder, lockfile);
        }
        var pnpm = lockfile == "pnpm-lock.yaml";
        var runs = updates.GroupBy(u => (Dev: IsDev(folder, u.Name), Exact: SpecFor(u) == u.Proposed)).ToList();
        if (runs.Count > 1)
        {
            // One npm run per section and save style, so no dependency moves section or changes its range style.
            foreach (var run in runs)
            {
                if (ApplyNpm([.. run]) is { } failed)
                {
                    return failed;
                }
            }
            return null;
        }
        Backup(Path.Combine(folder, "package.json"));
        Backup(Path.Combine(folder, pnpm ? "pnpm-lock.yaml" : "package-lock.json"));
        var arguments = new List<string> { pnpm ? "add" : "install" };
        foreach (var u in updates)
        {
            arguments.Add($"{u.Name}@{SpecFor(u)}");
        }
        arguments.AddRange(pnpm ? ["--lockfile-only", "--ignore-scripts"] : ["--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund"]);
        // Keep the dependency in the section it was declared in.
        if (IsDev(folder, updates[0].Name))
        {
            arguments.Add("--save-dev");
        }
        if (SpecFor(updates[0]) == updates[0].Proposed)
        {
            arguments.Add("--save-exact");
        }
        if (settings.NpmRegistry is { } registry)
        {
            arguments.Add("--registry=" + registry.AbsoluteUri);
        }
        if (pnpm)
        {
            var command = settings.Pnpm ?? ["pnpm"];
            return Run(command[0], [.. command.Skip(1), .. arguments], folder);
        }
        return Run("npm", arguments, folder);
    }

    /// <summary>
    /// yarn through yarn itself, scripts off. Classic (yarn 1) has no lockfile-only mode: <c>yarn add NAME@SPEC</c>
    /// (which keeps a dependency in the section it is declared in, and writes an explicit range as given) installs
    /// into a temporary modules folder that is deleted afterwards. Berry (yarn 2+): <c>yarn up NAME@SPEC
    /// --mode=update-lockfile</c>, which rewrites the range in every workspace that declares the package and skips the
    /// link step. The yarn that runs must be the one that wrote yarn.lock: yarn 1 would rewrite a berry lockfile in
    /// its own format.
    /// </summary>
    private string? ApplyYarn(List<DependencyUpdate> updates, string root)
    {
        var lockfile = Path.Combine(root, "yarn.lock");
        string text;
        try
        {
            text = File.ReadAllText(lockfile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"{lockfile} cannot be read ({e.Message}); nothing was changed";
        }
        var berry = Ecosystems.Npm.YarnLockReader.IsBerry(text);
        var command = settings.Yarn ?? ["yarn"];
        var (versionText, failed) = RunForOutput(command[0], [.. command.Skip(1), "--version"], root);
        if (failed is not null)
        {
            return failed;
        }
        var version = versionText!.Trim();
        var major = int.TryParse(version.Split('.')[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var m) ? m : -1;
        if (major < 1 || berry != (major >= 2))
        {
            return $"{lockfile} was written by yarn {(berry ? "2 or later" : "1 (classic)")}, but the yarn that runs in {root} is '{version}'; nothing was changed. "
                + (berry
                    ? "Make the project's own yarn run there (packageManager in package.json with corepack enabled, or yarnPath in .yarnrc.yml)"
                    : "Run yarn 1 there (corepack: packageManager \"yarn@1.22.22\" in package.json)");
        }
        var manifests = YarnManifests(root);
        foreach (var file in manifests.Append(lockfile))
        {
            Backup(file);
        }
        var specs = updates.Select(u => $"{u.Name}@{SpecFor(u)}").ToList();
        if (berry)
        {
            foreach (var state in new[] { Path.Combine(root, ".yarn", "install-state.gz"), Path.Combine(root, ".pnp.cjs"), Path.Combine(root, ".pnp.loader.mjs") })
            {
                Backup(state);
            }
            var environment = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["YARN_ENABLE_SCRIPTS"] = "false",
                // In CI yarn defaults to immutable installs, which would refuse the very change asked for.
                ["YARN_ENABLE_IMMUTABLE_INSTALLS"] = "false",
                ["YARN_ENABLE_TELEMETRY"] = "false",
            };
            if (settings.NpmRegistry is { } server)
            {
                environment["YARN_NPM_REGISTRY_SERVER"] = server.AbsoluteUri.TrimEnd('/');
            }
            return Run(command[0], [.. command.Skip(1), "up", .. specs, "--mode=update-lockfile"], root, environment);
        }
        // yarn 1 adds to the package.json of the folder it runs in: the workspace that declares the dependencies.
        foreach (var workspace in updates.GroupBy(u => DeclaringFolder(u, root, manifests)))
        {
            var modules = Directory.CreateTempSubdirectory("tollgate-yarn-modules-").FullName;
            try
            {
                var arguments = new List<string> { "add" };
                arguments.AddRange(workspace.Select(u => $"{u.Name}@{SpecFor(u)}"));
                arguments.AddRange(["--ignore-scripts", "--non-interactive", "--no-progress", "--modules-folder", modules]);
                if (workspace.Key == root && manifests.Count > 1)
                {
                    // A dependency of the workspace root itself: yarn 1 asks for this flag there.
                    arguments.Add("--ignore-workspace-root-check");
                }
                if (settings.NpmRegistry is { } registry)
                {
                    arguments.AddRange(["--registry", registry.AbsoluteUri]);
                }
                if (Run(command[0], [.. command.Skip(1), .. arguments], workspace.Key) is { } failure)
                {
                    return failure;
                }
            }
            finally
            {
                try
                {
                    Directory.Delete(modules, recursive: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // A temporary folder left behind costs space, not correctness.
                }
            }
        }
        return null;
    }

    /// <summary>
    /// bun through bun itself, scripts off: <c>bun add NAME@SPEC --lockfile-only --ignore-scripts</c>, one run per
    /// section and save style (<c>--dev</c> for devDependencies, <c>--exact</c> for an exact pin) so no dependency moves
    /// section or changes its range style; node_modules is left alone. Only the text lockfile (bun.lock) is written:
    /// the binary bun.lockb is refused, since it cannot be reviewed in a pull request.
    /// </summary>
    private string? ApplyBun(List<DependencyUpdate> updates, string folder, string lockfile)
    {
        if (lockfile == "bun.lockb" || (!File.Exists(Path.Combine(folder, "bun.lock")) && File.Exists(Path.Combine(folder, "bun.lockb"))))
        {
            return $"{Path.Combine(folder, "bun.lockb")} is bun's binary lockfile, which --apply does not write (a change to it cannot be reviewed); nothing was changed. "
                + $"Convert it to the text lockfile first: run bun install --save-text-lockfile --lockfile-only --ignore-scripts in {folder}, "
                + "which writes bun.lock in its place, commit that, then apply again";
        }
        Backup(Path.Combine(folder, "package.json"));
        Backup(Path.Combine(folder, "bun.lock"));
        var command = settings.Bun ?? ["bun"];
        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["DO_NOT_TRACK"] = "1" };
        foreach (var run in updates.GroupBy(u => (Dev: IsDev(folder, u.Name), Exact: SpecFor(u) == u.Proposed)))
        {
            var arguments = new List<string> { "add" };
            arguments.AddRange(run.Select(u => $"{u.Name}@{SpecFor(u)}"));
            arguments.AddRange(["--lockfile-only", "--ignore-scripts", "--no-progress", "--no-summary"]);
            if (run.Key.Dev)
            {
                arguments.Add("--dev");
            }
            if (run.Key.Exact)
            {
                arguments.Add("--exact");
            }
            if (settings.NpmRegistry is { } registry)
            {
                arguments.Add("--registry=" + registry.AbsoluteUri);
            }
            if (Run(command[0], [.. command.Skip(1), .. arguments], folder, environment) is { } failure)
            {
                return failure;
            }
        }
        return null;
    }

    /// <summary>The package.json of the yarn project at <paramref name="root"/> and of its workspaces.</summary>
    private static List<string> YarnManifests(string root)
    {
        var manifest = Path.Combine(root, "package.json");
        var result = new List<string> { manifest };
        var patterns = Ecosystems.Npm.PackageJson.Read(manifest, new Inputs.DiagnosticBag())?.Workspaces ?? [];
        result.AddRange(Ecosystems.Npm.YarnWorkspaces.Expand(root, patterns).Select(w => Path.GetFullPath(Path.Combine(root, w, "package.json"))));
        return result;
    }

    /// <summary>The folder of the workspace whose package.json declares the update, else the project root.</summary>
    private static string DeclaringFolder(DependencyUpdate update, string root, List<string> manifests)
    {
        var declared = update.Declared?.File is { } file ? Path.GetFullPath(file) : null;
        return declared is not null && manifests.Contains(declared, StringComparer.Ordinal) ? Path.GetDirectoryName(declared)! : root;
    }

    /// <summary>The spec written to package.json: the range's own prefix (^, ~) kept, an exact pin stays exact.</summary>
    private static string SpecFor(DependencyUpdate u)
    {
        var range = u.Range?.Trim() ?? "";
        if (range.StartsWith('^') || range.StartsWith('~'))
        {
            return range[0] + u.Proposed!;
        }
        return u.Proposed!;
    }

    private static bool IsDev(string folder, string name)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "package.json")));
            return doc.RootElement.TryGetProperty("devDependencies", out var dev) && dev.ValueKind == System.Text.Json.JsonValueKind.Object && dev.TryGetProperty(name, out _)
                && !(doc.RootElement.TryGetProperty("dependencies", out var prod) && prod.ValueKind == System.Text.Json.JsonValueKind.Object && prod.TryGetProperty(name, out _));
        }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException)
        {
            return false;
        }
    }

    private string? ApplyRequirements(List<DependencyUpdate> updates)
    {
        foreach (var file in updates.GroupBy(u => u.Declared?.File))
        {
            if (file.Key is null || !(file.Key.EndsWith(".txt", StringComparison.OrdinalIgnoreCase) || file.Key.EndsWith(".in", StringComparison.OrdinalIgnoreCase)))
            {
                return PythonLockRefusal([.. file]);
            }
            var lines = File.ReadAllLines(file.Key).ToList();
            foreach (var u in file.OrderByDescending(u => u.Declared!.Line))
            {
                var hashes = facts(Ecosystem.PyPI, u.Name)?.Find(u.Proposed!)?.Sha256 ?? [];
                if (hashes.IsEmpty)
                {
                    return $"{u.Name} {u.Proposed}: the package index lists no sha256 hash for its files, so a hash-pinned requirement cannot be written; nothing was changed";
                }
                var index = u.Declared!.Line - 1;
                if (index < 0 || index >= lines.Count)
                {
                    return $"{file.Key}:{u.Declared.Line}: the requirement of {u.Name} is no longer on that line";
                }
                // The requirement and its continuation lines (--hash=… \) are replaced as one.
                var end = index;
                while (end < lines.Count - 1 && lines[end].TrimEnd().EndsWith('\\'))
                {
                    end++;
                }
                var first = lines[index];
                var match = Regex.Match(first, @"^(\s*)([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*===?\s*([^\s;\\#]+)(.*)$", RegexOptions.None, TimeSpan.FromSeconds(1));
                if (!match.Success)
                {
                    return $"{file.Key}:{u.Declared.Line}: {u.Name} is not pinned with == on that line; only == pins are rewritten";
                }
                var marker = Regex.Match(match.Groups[5].Value, @";[^\\#]*", RegexOptions.None, TimeSpan.FromSeconds(1)).Value.TrimEnd();
                var replacement = new List<string>
                {
                    $"{match.Groups[1].Value}{match.Groups[2].Value}{match.Groups[3].Value}=={u.Proposed}{(marker.Length > 0 ? " " + marker : "")} \\",
                };
                replacement.AddRange(hashes.Distinct().Select((h, i) => $"    --hash=sha256:{h}" + (i < hashes.Distinct().Count() - 1 ? " \\" : "")));
                lines.RemoveRange(index, end - index + 1);
                lines.InsertRange(index, replacement);
            }
            Backup(file.Key);
            WriteAtomically(Path.GetFullPath(file.Key), Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n"));
        }
        return null;
    }

    /// <summary>Why a Python project other than a requirements file is not updated, and the command to run instead.</summary>
    private static string PythonLockRefusal(List<DependencyUpdate> updates)
    {
        var first = updates[0];
        var file = first.Project ?? first.Declared?.File ?? ".";
        var folder = Path.GetDirectoryName(Path.GetFullPath(file))!;
        if (Path.GetFileName(file) == "uv.lock" || File.Exists(Path.Combine(folder, "uv.lock")))
        {
            return $"{folder}: uv projects are not updated by --apply (uv cannot be run here); nothing was changed. Run there: uv lock "
                + string.Join(' ', updates.Select(u => $"--upgrade-package {u.Name}=={u.Proposed}"))
                + " (a version outside the range in pyproject.toml needs the range changed first: uv add --no-sync 'NAME>=VERSION'), then check with uv lock --locked";
        }
        return $"{folder}: only requirements files are updated by --apply, not {Path.GetFileName(file)}; nothing was changed. Update "
            + string.Join(", ", updates.Select(u => $"{u.Name} to {u.Proposed}"))
            + " with the tool that wrote it (poetry: poetry update --lock NAME; pdm: pdm update --no-sync NAME; pipenv: pipenv update NAME)";
    }

    private string? ApplyNuGet(List<DependencyUpdate> updates)
    {
        var lockFolders = new HashSet<string>(StringComparer.Ordinal);
        foreach (var u in updates)
        {
            var project = u.Project is null ? null : Path.GetFullPath(u.Project);
            var folder = project is null ? null : File.Exists(project) ? Path.GetDirectoryName(project) : project;
            if (folder is null)
            {
                return $"{u.Name}: the project is unknown";
            }
            var files = ProjectFiles(folder).ToList();
            var edited = false;
            // Central package management first: a PackageVersion in the nearest Directory.Packages.props.
            for (var dir = new DirectoryInfo(folder); dir is not null && !edited; dir = dir.Parent)
            {
                var props = Path.Combine(dir.FullName, "Directory.Packages.props");
                if (File.Exists(props))
                {
                    edited = EditVersionAttribute(props, "PackageVersion", u);
                    break;
                }
            }
            foreach (var file in files)
            {
                edited |= EditVersionAttribute(file, "PackageReference", u);
            }
            if (!edited)
            {
                return $"{u.Name}: no PackageVersion or PackageReference with Version=\"{u.Current}\" was found for it under {folder}";
            }
            if (File.Exists(Path.Combine(folder, "packages.lock.json")))
            {
                lockFolders.Add(folder);
            }
        }
        foreach (var folder in lockFolders)
        {
            Backup(Path.Combine(folder, "packages.lock.json"));
            if (Run("dotnet", ["restore", "--force-evaluate"], folder) is { } failed)
            {
                return failed;
            }
        }
        return null;
    }

    private static IEnumerable<string> ProjectFiles(string folder) =>
        Directory.EnumerateFiles(folder, "*.*proj", SearchOption.TopDirectoryOnly);

    private bool EditVersionAttribute(string file, string element, DependencyUpdate u)
    {
        var text = File.ReadAllText(file);
        var pattern = $@"<{element}\s+(?:[^>]*?\s)?(?:Include|Update)\s*=\s*""{Regex.Escape(u.Name)}""[^>]*>";
        var changed = false;
        var result = Regex.Replace(text, pattern, m =>
        {
            var tag = m.Value;
            var version = Regex.Match(tag, @"\bVersion\s*=\s*""([^""]*)""", RegexOptions.None, TimeSpan.FromSeconds(1));
            if (!version.Success || !string.Equals(version.Groups[1].Value.Trim('[', ']', ' '), u.Current, StringComparison.OrdinalIgnoreCase))
            {
                return tag;
            }
            changed = true;
            var value = version.Groups[1].Value.StartsWith('[') ? $"[{u.Proposed}]" : u.Proposed!;
            return tag[..version.Groups[1].Index] + value + tag[(version.Groups[1].Index + version.Groups[1].Length)..];
        }, RegexOptions.IgnoreCase, TimeSpan.FromSeconds(2));
        if (changed)
        {
            Backup(file);
            WriteAtomically(Path.GetFullPath(file), Encoding.UTF8.GetBytes(result));
        }
        return changed;
    }

    private string? Run(string program, IReadOnlyList<string> arguments, string folder, IReadOnlyDictionary<string, string>? environment = null) =>
        Execute(program, arguments, folder, environment).Failure;

    /// <summary>What the program printed on stdout, or why it could not be had (nothing is changed by such a run).</summary>
    private (string? Output, string? Failure) RunForOutput(string program, IReadOnlyList<string> arguments, string folder)
    {
        var (output, failure) = Execute(program, arguments, folder, null);
        return failure is null ? (output, null) : (null, failure.Replace("; every file was restored", "; nothing was changed", StringComparison.Ordinal));
    }

    private (string? Output, string? Failure) Execute(string program, IReadOnlyList<string> arguments, string folder, IReadOnlyDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(OperatingSystem.IsWindows() && program is "npm" or "yarn" or "pnpm" ? program + ".cmd" : program)
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }
        start.Environment["npm_config_ignore_scripts"] = "true";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        var shown = $"{program} {string.Join(' ', arguments)}";
        try
        {
            using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(settings.Timeout ?? TimeSpan.FromMinutes(10)))
            {
                process.Kill(entireProcessTree: true);
                return (null, $"'{shown}' in {folder} did not finish in time; every file was restored");
            }
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                var text = (error.Result + "\n" + output.Result).Trim();
                var lines = text.Split('\n').Where(l => l.Trim().Length > 0).TakeLast(8);
                return (null, $"'{shown}' in {folder} failed with exit code {process.ExitCode}; every file was restored:\n  {string.Join("\n  ", lines)}");
            }
            return (output.Result, null);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (null, $"{program} could not be started ({e.Message}): is it installed and on PATH? Nothing was changed");
        }
    }
}
