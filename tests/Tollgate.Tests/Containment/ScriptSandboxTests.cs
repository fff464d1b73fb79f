using Tollgate.Containment;
using Tollgate.Policy;

namespace Tollgate.Tests.Containment;

public sealed class ScriptSandboxTests : IDisposable
{
    private readonly string _dir = SandboxLayout.RealPath(Directory.CreateTempSubdirectory("tollgate-sandbox-").FullName);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static SandboxLayout Layout(bool network = false, bool root = false) => new()
    {
        Project = "/srv/app",
        // A home folder inside the project is hidden again after the project is shown.
        Hidden = ["/home/dev", "/run/user", "/srv/app/home"],
        ReadOnly = ["/home/dev/.nvm/versions/node/v20.20.2"],
        Network = network,
        DropCapabilities = root,
    };

    [Fact]
    public void BubblewrapOptions_Always_OwnPidNamespaceAndProcNoTerminalDiesWithTollgate()
    {
        var options = ScriptSandbox.BubblewrapOptions(Layout());

        Assert.Contains("--unshare-pid", options);
        Assert.Contains("--die-with-parent", options);
        Assert.Contains("--new-session", options);
        Assert.Equal(["--proc", "/proc"], Pair(options, "--proc"));
        Assert.Equal(["--dev", "/dev"], Pair(options, "--dev"));
        Assert.Equal(["--ro-bind", "/", "/"], options.Take(options.IndexOf("--ro-bind") + 3).TakeLast(3));
        Assert.Equal(["--setenv", "TMPDIR", "/tmp"], options.Skip(options.IndexOf("--setenv")).Take(3));
        Assert.Equal(["--chdir", "/srv/app"], Pair(options, "--chdir"));
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void BubblewrapOptions_Network_UnsharedUnlessAllowed(bool network, bool unshared)
    {
        Assert.Equal(unshared, ScriptSandbox.BubblewrapOptions(Layout(network)).Contains("--unshare-net"));
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public void BubblewrapOptions_Root_DropsEveryCapability(bool root, bool dropped)
    {
        var options = ScriptSandbox.BubblewrapOptions(Layout(root: root));

        Assert.Equal(dropped, options.IndexOf("--cap-drop") is var i && i >= 0 && options[i + 1] == "ALL");
    }

    [Fact]
    public void BubblewrapOptions_MountOrder_HidesThenShowsProjectThenHidesInsideIt()
    {
        var options = ScriptSandbox.BubblewrapOptions(Layout());

        var mounts = Mounts(options);

        Assert.Equal(
        [
            "--ro-bind / /",
            "--tmpfs /home/dev",
            "--tmpfs /run/user",
            "--tmpfs /tmp",
            "--ro-bind /home/dev/.nvm/versions/node/v20.20.2 /home/dev/.nvm/versions/node/v20.20.2",
            "--bind /srv/app /srv/app",
            "--tmpfs /srv/app/home",
        ], mounts);
    }

    [Fact]
    public void For_HomeAndToolsUnderIt_HomeHiddenToolPrefixesShownReadOnly()
    {
        var home = Path.Combine(_dir, "home");
        var project = Path.Combine(home, "src", "app");
        var nvm = Path.Combine(home, ".nvm", "versions", "node", "v20.20.2", "bin");
        var cargo = Path.Combine(home, ".cargo", "bin");
        var own = Path.Combine(home, "bin");
        var work = Path.Combine(home, "work", "bin");
        foreach (var folder in new[] { project, nvm, Path.Combine(nvm, "..", "lib"), cargo, Path.Combine(home, ".cargo", "lib"), own, work })
        {
            Directory.CreateDirectory(folder);
        }
        var environment = new Dictionary<string, string>
        {
            ["HOME"] = home,
            ["PATH"] = string.Join(':', nvm, cargo, own, work, "/usr/bin", Path.Combine(project, "node_modules", ".bin"), "relative/bin"),
        };

        var layout = SandboxLayout.For(project, environment, InstallScriptNetwork.Deny, runningAsRoot: false);

        Assert.Equal(project, layout.Project);
        Assert.Contains(home, layout.Hidden);
        // nvm's prefix (bin and lib), but only the bin folders of ~/.cargo (which holds a registry token), of ~,
        // and of ~/work (no lib beside it: not an install prefix, and it may hold other projects).
        Assert.Equal([cargo, Path.GetDirectoryName(nvm)!, own, work], layout.ReadOnly.AsEnumerable());
        Assert.False(layout.Network);
        Assert.False(layout.DropCapabilities);
        Assert.Null(layout.Warning);
    }

    [Fact]
    public void For_ToolsUnderTmp_ShownReadOnly()
    {
        var tools = Path.Combine(_dir, "tool-cache", "node", "bin");
        Directory.CreateDirectory(tools);
        var project = Path.Combine(_dir, "app");
        Directory.CreateDirectory(project);

        var layout = SandboxLayout.For(project, new Dictionary<string, string> { ["PATH"] = tools + ":/usr/bin" }, InstallScriptNetwork.Deny, runningAsRoot: false);

        // The test's temporary folder is under /tmp, which the sandbox replaces with an empty one.
        Assert.Equal(SandboxLayout.IsUnder(_dir, SandboxLayout.RealPath("/tmp")) ? [tools] : [], layout.ReadOnly.AsEnumerable());
    }

    [Fact]
    public void For_LinkedProjectAndHome_UsesRealPaths()
    {
        var realHome = Path.Combine(_dir, "var-home", "dev");
        Directory.CreateDirectory(Path.Combine(realHome, "app"));
        var linkedHome = Path.Combine(_dir, "home");
        Directory.CreateSymbolicLink(linkedHome, Path.Combine(_dir, "var-home"));

        var layout = SandboxLayout.For(Path.Combine(linkedHome, "dev", "app"),
            new Dictionary<string, string> { ["HOME"] = Path.Combine(linkedHome, "dev") }, InstallScriptNetwork.Allow, runningAsRoot: true);

        Assert.Equal(Path.Combine(realHome, "app"), layout.Project);
        Assert.Contains(realHome, layout.Hidden);
        Assert.True(layout.Network);
        Assert.True(layout.DropCapabilities);
    }

    [Fact]
    public void For_ProjectIsHomeFolder_Warns()
    {
        var layout = SandboxLayout.For(_dir, new Dictionary<string, string> { ["HOME"] = _dir }, InstallScriptNetwork.Deny, runningAsRoot: false);

        Assert.Contains("is a folder the sandbox should hide", layout.Warning, StringComparison.Ordinal);
    }

    [Fact]
    public void Find_NoBwrapOnPath_SaysWhatToInstall()
    {
        var probe = ScriptSandbox.Find(InstallScriptNetwork.Deny, _dir, new Dictionary<string, string> { ["PATH"] = _dir });

        Assert.Null(probe.Sandbox);
        Assert.Contains(OperatingSystem.IsLinux() ? "bubblewrap (bwrap) is not on PATH" : "no sandbox for install scripts", probe.Problem, StringComparison.Ordinal);
    }

    private static string[] Pair(IReadOnlyList<string> options, string option)
    {
        var index = options.ToList().IndexOf(option);
        Assert.True(index >= 0, $"{option} is missing");
        return [options[index], options[index + 1]];
    }

    /// <summary>The file system options in order, each with its paths.</summary>
    private static List<string> Mounts(IReadOnlyList<string> options)
    {
        var result = new List<string>();
        for (var i = 0; i < options.Count; i++)
        {
            switch (options[i])
            {
                case "--ro-bind" or "--bind":
                    result.Add($"{options[i]} {options[i + 1]} {options[i + 2]}");
                    i += 2;
                    break;
                case "--tmpfs":
                    result.Add($"{options[i]} {options[i + 1]}");
                    i++;
                    break;
            }
        }
        return result;
    }
}
