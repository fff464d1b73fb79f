using System.Collections.Immutable;
using Tollgate.Containment;
using Tollgate.Policy;

namespace Tollgate.Tests.Containment;

public sealed class InstallPlanTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tollgate-plan-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("npm ci", PackageManagerKind.Npm)]
    [InlineData("npm install --omit=dev", PackageManagerKind.Npm)]
    [InlineData("npm i left-pad", PackageManagerKind.Npm)]
    [InlineData("npm add left-pad", PackageManagerKind.Npm)]
    [InlineData("npm clean-install", PackageManagerKind.Npm)]
    [InlineData("/usr/bin/npm ci", PackageManagerKind.Npm)]
    [InlineData("npm.cmd ci", PackageManagerKind.Npm)]
    [InlineData("pnpm install --frozen-lockfile", PackageManagerKind.Pnpm)]
    [InlineData("pnpm add zod", PackageManagerKind.Pnpm)]
    [InlineData("yarn", PackageManagerKind.YarnClassic)]
    [InlineData("yarn install --frozen-lockfile", PackageManagerKind.YarnClassic)]
    [InlineData("pip install -r requirements.txt", PackageManagerKind.Pip)]
    [InlineData("pip3 install requests", PackageManagerKind.Pip)]
    [InlineData("pip3.12 install requests", PackageManagerKind.Pip)]
    [InlineData("python -m pip install requests", PackageManagerKind.Pip)]
    [InlineData("python3 -m pip install -r requirements.txt", PackageManagerKind.Pip)]
    [InlineData("dotnet restore", PackageManagerKind.DotnetRestore)]
    [InlineData("dotnet restore src/App.csproj --locked-mode", PackageManagerKind.DotnetRestore)]
    public void TryParse_InstallCommands_DetectsTheManager(string commandLine, PackageManagerKind kind)
    {
        Assert.True(InstallCommandLine.TryParse(commandLine.Split(' '), _dir, out var command, out var error), error);
        Assert.Equal(kind, command.Kind);
        Assert.Equal(commandLine.Split(' '), command.Arguments);
    }

    [Theory]
    [InlineData("npm run build", "not an install command")]
    [InlineData("npm exec evil", "not an install command")]
    [InlineData("npm install-test", "not an install command")]
    [InlineData("npm", "not an install command")]
    [InlineData("pnpm dlx evil", "not an install command")]
    [InlineData("yarn run postinstall", "not an install command")]
    [InlineData("yarn dlx evil", "not an install command")]
    [InlineData("pip download requests", "not an install command")]
    [InlineData("python -c print(1)", "not an install command")]
    [InlineData("dotnet build", "not an install command")]
    [InlineData("bash -c npm-ci", "is not a package manager Tollgate knows")]
    [InlineData("npx evil", "is not a package manager Tollgate knows")]
    public void TryParse_OtherCommands_AreRefusedWithAReason(string commandLine, string reason)
    {
        Assert.False(InstallCommandLine.TryParse(commandLine.Split(' '), _dir, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_Nothing_AsksForTheCommand()
    {
        Assert.False(InstallCommandLine.TryParse([], _dir, out _, out var error));
        Assert.Contains("after '--'", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "packageManager": "yarn@4.5.1" }""", false, PackageManagerKind.YarnBerry)]
    [InlineData("""{ "packageManager": "yarn@1.22.22" }""", true, PackageManagerKind.YarnClassic)]
    [InlineData("""{ "name": "x" }""", true, PackageManagerKind.YarnBerry)]
    [InlineData("""{ "name": "x" }""", false, PackageManagerKind.YarnClassic)]
    [InlineData("not json", false, PackageManagerKind.YarnClassic)]
    public void TryParse_Yarn_MajorVersionFromPackageManagerFieldThenYarnrcYml(string manifest, bool yarnrcYml, PackageManagerKind kind)
    {
        File.WriteAllText(Path.Combine(_dir, "package.json"), manifest);
        if (yarnrcYml)
        {
            File.WriteAllText(Path.Combine(_dir, ".yarnrc.yml"), "nodeLinker: node-modules\n");
        }

        Assert.True(InstallCommandLine.TryParse(["yarn", "install"], _dir, out var command, out _));
        Assert.Equal(kind, command.Kind);
    }

    [Theory]
    [InlineData(PackageManagerKind.Npm, "npm ci --omit=dev", "npm ci --omit=dev --ignore-scripts")]
    [InlineData(PackageManagerKind.Npm, "npm install --ignore-scripts=false", "npm install --ignore-scripts=false --ignore-scripts")]
    [InlineData(PackageManagerKind.Npm, "npm install left-pad -- extra", "npm install left-pad --ignore-scripts -- extra")]
    [InlineData(PackageManagerKind.Pnpm, "pnpm install --frozen-lockfile", "pnpm install --frozen-lockfile --ignore-scripts")]
    [InlineData(PackageManagerKind.YarnClassic, "yarn install --frozen-lockfile", "yarn install --frozen-lockfile --ignore-scripts")]
    [InlineData(PackageManagerKind.YarnBerry, "yarn install --immutable", "yarn install --immutable")]
    [InlineData(PackageManagerKind.DotnetRestore, "dotnet restore --locked-mode", "dotnet restore --locked-mode")]
    public void Install_NodeAndDotnet_ExactCommandLine(PackageManagerKind kind, string given, string expected)
    {
        var step = InstallPlan.Install(new InstallCommandLine(kind, [.. given.Split(' ')]), []);

        Assert.Equal(expected.Split(' '), step.Arguments);
        Assert.False(step.Scrubbed);
    }

    [Theory]
    [InlineData(PackageManagerKind.Npm, "npm_config_ignore_scripts=true")]
    [InlineData(PackageManagerKind.Pnpm, "npm_config_ignore_scripts=true")]
    [InlineData(PackageManagerKind.YarnClassic, "npm_config_ignore_scripts=true")]
    [InlineData(PackageManagerKind.YarnBerry, "YARN_ENABLE_SCRIPTS=false")]
    [InlineData(PackageManagerKind.DotnetRestore, "")]
    public void Install_ScriptsOffVariables_ExactEnvironment(PackageManagerKind kind, string expected)
    {
        var step = InstallPlan.Install(new InstallCommandLine(kind, ["x", "install"]), []);

        Assert.Equal(expected, string.Join(";", step.SetEnvironment.Select(p => $"{p.Key}={p.Value}")));
    }

    [Theory]
    [InlineData("pip install -r requirements.txt", "", "pip install --only-binary :all: -r requirements.txt", false)]
    [InlineData("python3 -m pip install requests", "", "python3 -m pip install --only-binary :all: requests", false)]
    [InlineData("pip install -r requirements.txt", "pyyaml,Django_Extensions", "pip install --only-binary :all: --no-binary django-extensions --no-binary pyyaml -r requirements.txt", true)]
    public void Install_Pip_BinaryOnlyExceptAllowedSourceBuilds(string given, string allowed, string expected, bool scrubbed)
    {
        var names = allowed.Length == 0 ? [] : allowed.Split(',').Select(Graph.Component.NormalizePyPIName).ToList();

        var step = InstallPlan.Install(new InstallCommandLine(PackageManagerKind.Pip, [.. given.Split(' ')]), names);

        Assert.Equal(expected.Split(' '), step.Arguments);
        Assert.Equal(scrubbed, step.Scrubbed);
        Assert.Empty(step.SetEnvironment);
    }

    [Fact]
    public void PipSourceBuildNames_AllowList_PlainPyPINamesOnly()
    {
        var policy = Policy("""
            installScripts:
              allow: [ "PyYAML", "pkg:pypi/Django_Extensions", "pkg:npm/esbuild", "@acme/native", "acme-*", "psycopg2>=2.9", "sharp@^0.33.0" ]
            """);

        var names = InstallPlan.PipSourceBuildNames(policy.InstallScripts, out var unusable);

        Assert.Equal(["pyyaml", "django-extensions"], names.AsEnumerable());
        Assert.Equal(["@acme/native", "acme-*", "psycopg2>=2.9", "sharp@^0.33.0"], unusable.Select(p => p.Text));
    }

    [Fact]
    public void RunAllowedScripts_Npm_RebuildsNamedVersionsScrubbed()
    {
        var step = InstallPlan.RunAllowedScripts(PackageManagerKind.Npm, [Package("sharp", "0.33.5"), Package("esbuild", "0.24.0"), Package("esbuild", "0.24.0")]);

        Assert.NotNull(step);
        Assert.Equal(["rebuild", "esbuild@0.24.0", "sharp@0.33.5", "--ignore-scripts=false"], step.Arguments.Skip(1));
        Assert.Equal(OperatingSystem.IsWindows() ? "npm.cmd" : "npm", step.Arguments[0]);
        Assert.True(step.Scrubbed);
        Assert.Equal("false", step.SetEnvironment["npm_config_ignore_scripts"]);
    }

    [Fact]
    public void RunAllowedScripts_YarnClassic_UsesNpmRebuild()
    {
        var step = InstallPlan.RunAllowedScripts(PackageManagerKind.YarnClassic, [Package("@parcel/watcher", "2.4.1")]);

        Assert.Equal(["rebuild", "@parcel/watcher@2.4.1", "--ignore-scripts=false"], step!.Arguments.Skip(1));
    }

    [Fact]
    public void RunAllowedScripts_Pnpm_RebuildsNames()
    {
        var step = InstallPlan.RunAllowedScripts(PackageManagerKind.Pnpm, [Package("sharp", "0.33.5"), Package("esbuild", "0.24.0")]);

        Assert.Equal(["pnpm", "rebuild", "esbuild", "sharp"], step!.Arguments.AsEnumerable());
        Assert.True(step.Scrubbed);
    }

    [Fact]
    public void RunAllowedScripts_YarnBerry_RebuildsWithScriptsOn()
    {
        var step = InstallPlan.RunAllowedScripts(PackageManagerKind.YarnBerry, [Package("esbuild", "0.24.0")]);

        Assert.Equal(["yarn", "rebuild", "esbuild"], step!.Arguments.AsEnumerable());
        Assert.Equal("true", step.SetEnvironment["YARN_ENABLE_SCRIPTS"]);
        Assert.True(step.Scrubbed);
    }

    [Theory]
    [InlineData(PackageManagerKind.Pip)]
    [InlineData(PackageManagerKind.DotnetRestore)]
    public void RunAllowedScripts_NoSeparateStep_IsNull(PackageManagerKind kind)
    {
        Assert.Null(InstallPlan.RunAllowedScripts(kind, [Package("x", "1.0.0")]));
    }

    [Fact]
    public void RunAllowedScripts_NothingAllowed_IsNull()
    {
        Assert.Null(InstallPlan.RunAllowedScripts(PackageManagerKind.Npm, []));
    }

    [Fact]
    public void EnvironmentFor_ScrubbedStep_HasNoSecretAndTheStepsVariables()
    {
        var environment = new Dictionary<string, string> { ["PATH"] = "/usr/bin", ["AZURE_CLIENT_SECRET"] = "s3cr3t", ["NPM_CONFIG_IGNORE_SCRIPTS"] = "true" };
        var scrubbed = new EnvironmentScrubber().Scrub(environment);
        var step = InstallPlan.RunAllowedScripts(PackageManagerKind.Npm, [Package("esbuild", "0.24.0")])!;

        var result = ContainedInstall.EnvironmentFor(step, environment, scrubbed);

        Assert.Equal(["PATH", "npm_config_ignore_scripts"], result.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("false", result["npm_config_ignore_scripts"]);
    }

    [Fact]
    public void EnvironmentFor_InstallStep_KeepsRegistryTokens()
    {
        var environment = new Dictionary<string, string> { ["PATH"] = "/usr/bin", ["NPM_TOKEN"] = "npm_0123456789abcdefghijklmnopqrstuvwxyz" };
        var step = InstallPlan.Install(new InstallCommandLine(PackageManagerKind.Npm, ["npm", "ci"]), []);

        var result = ContainedInstall.EnvironmentFor(step, environment, new EnvironmentScrubber().Scrub(environment));

        Assert.Equal(environment["NPM_TOKEN"], result["NPM_TOKEN"]);
        Assert.Equal("true", result["npm_config_ignore_scripts"]);
    }

    [Fact]
    public void Display_ArgumentWithCredentials_IsRedacted()
    {
        var step = InstallPlan.Install(new InstallCommandLine(PackageManagerKind.Pip,
            ["pip", "install", "--index-url", "https://u:hunter2@pypi.example.invalid/simple/", "my pkg"]), []);

        Assert.Equal("pip install --only-binary :all: --index-url https://***@pypi.example.invalid/simple/ 'my pkg'", step.Display);
    }

    private static InstalledPackage Package(string name, string version) =>
        new(name, version, "node_modules/" + name, ["install: node install.js"]);

    private static TollgatePolicy Policy(string yaml)
    {
        var result = PolicyLoader.Parse(yaml, "tollgate.yaml");
        Assert.False(result.HasErrors, string.Join("\n", result.Diagnostics));
        return result.Policy!;
    }
}
