using Tollgate.Cli;
using Tollgate.Cli.Commands;
using Tollgate.Tests.Cli;

namespace Tollgate.Tests.Containment;

public sealed class InstallCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tollgate-installcmd-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Install_NoCommand_UsageErrorExit2()
    {
        var result = CliRunner.Run("install", "--directory", _dir);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("give the install command after '--'", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Install_NotAnInstallCommand_UsageErrorExit2AndNothingRuns()
    {
        var result = CliRunner.Run("install", "--directory", _dir, "--", "npm", "run", "build");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("'npm run build' is not an install command", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Install_PolicyWithErrors_Exit2AndNothingRuns()
    {
        File.WriteAllText(Path.Combine(_dir, "tollgate.yaml"), "installScripts:\n  alow: [ esbuild ]\n");

        var result = CliRunner.Run("install", "--directory", _dir, "--", "npm", "ci");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("TG0020", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("nothing was installed", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Install_DryRun_PrintsPlanAndWithheldNamesNeverValues()
    {
        File.WriteAllText(Path.Combine(_dir, "tollgate.yaml"), "installScripts:\n  allow: [ esbuild ]\n");
        var environment = new Dictionary<string, string>
        {
            ["PATH"] = "/usr/bin",
            ["AZURE_CLIENT_SECRET"] = "s3cr3t-value",
            ["NPM_TOKEN"] = "npm_0123456789abcdefghijklmnopqrstuvwxyz",
            ["AZURE_CLIENT_ID"] = "kept",
            [Tollgate.Containment.EnvironmentScrubber.KeepListVariable] = "AZURE_CLIENT_ID",
            ["GIT_AUTHOR_NAME"] = "Jane Doe",
            ["AWS_CA_BUNDLE"] = "/etc/ssl/certs/ca-certificates.crt",
            ["DEPLOY_CREDS"] = "plain",
        };
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var exit = InstallCommand.Run(new InstallOptions(["npm", "ci"], null, DryRun: true, KeepEnv: [], _dir), new Terminal(stdout, stderr), environment);

        var text = stderr.ToString();
        Assert.Equal(0, exit);
        Assert.Contains("would run: npm ci --ignore-scripts (with npm_config_ignore_scripts=true)", text, StringComparison.Ordinal);
        Assert.Contains("npm rebuild NAME@VERSION... --ignore-scripts=false", text, StringComparison.Ordinal);
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        Assert.Contains("would withhold from install scripts: AZURE_CLIENT_SECRET, DEPLOY_CREDS, NPM_TOKEN", lines);
        Assert.Contains("  DEPLOY_CREDS: name contains CREDS", lines);
        Assert.Contains("would keep although credential-like: AWS_CA_BUNDLE, AZURE_CLIENT_ID, GIT_AUTHOR_NAME", lines);
        Assert.Contains("  AWS_CA_BUNDLE: a CA certificate path, not a credential", lines);
        Assert.Contains("  AZURE_CLIENT_ID: on the keep list (--keep-env or TOLLGATE_KEEP_ENV); otherwise withheld: name matches AZURE_*", lines);
        Assert.Contains("  GIT_AUTHOR_NAME: AUTH only as part of the word AUTHOR", lines);
        Assert.DoesNotContain("Jane Doe", text, StringComparison.Ordinal);
        Assert.Contains("installScripts.allow: esbuild", text, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", text, StringComparison.Ordinal);
        Assert.DoesNotContain("npm_0123", text, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "node_modules")));
    }

    [Fact]
    public void Install_DryRunWithBubblewrap_ShowsTheSandboxScriptsWouldRunIn()
    {
        File.WriteAllText(Path.Combine(_dir, "tollgate.yaml"), "installScripts:\n  allow: [ esbuild ]\n");
        var stderr = new StringWriter();

        var exit = InstallCommand.Run(new InstallOptions(["npm", "ci"], null, DryRun: true, KeepEnv: [], _dir), new Terminal(new StringWriter(), stderr),
            new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" });

        var text = stderr.ToString();
        Assert.True(exit == 0, text);
        Assert.Contains("npm rebuild NAME@VERSION... --ignore-scripts=false (with npm_config_ignore_scripts=false; secrets withheld; sandboxed: no network,", text, StringComparison.Ordinal);
        Assert.DoesNotContain("no sandbox", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Install_DryRunWithoutBubblewrap_WarnsThatARunWouldRefuseAllowedScripts()
    {
        File.WriteAllText(Path.Combine(_dir, "tollgate.yaml"), "installScripts:\n  allow: [ esbuild ]\n");
        var stderr = new StringWriter();

        var exit = InstallCommand.Run(new InstallOptions(["npm", "ci"], null, DryRun: true, KeepEnv: [], _dir), new Terminal(new StringWriter(), stderr),
            new Dictionary<string, string> { ["PATH"] = _dir });

        var text = stderr.ToString();
        Assert.Equal(0, exit);
        Assert.Contains("warning: no sandbox for install scripts:", text, StringComparison.Ordinal);
        Assert.Contains("a run would refuse to run allowed scripts (exit 2) unless --no-sandbox is given", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Install_PipWithAllowedSourceBuild_RefusedWithoutNoSandboxAndNothingRuns()
    {
        File.WriteAllText(Path.Combine(_dir, "tollgate.yaml"), "installScripts:\n  allow: [ PyYAML ]\n");

        var result = CliRunner.Run("install", "--directory", _dir, "--", Path.Combine(_dir, "no-such", "pip"), "install", "PyYAML");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("nothing was installed: pip would build pyyaml from source", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("--no-sandbox", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("could not start", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Install_PipWithAllowedSourceBuildAndNoSandbox_RunsPip()
    {
        File.WriteAllText(Path.Combine(_dir, "tollgate.yaml"), "installScripts:\n  allow: [ PyYAML ]\n");

        var result = CliRunner.Run("install", "--no-sandbox", "--directory", _dir, "--", Path.Combine(_dir, "no-such", "pip"), "install", "PyYAML");

        // The program does not exist: that it was looked for shows the install was not refused.
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("could not start", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Install_DryRunPipWithAllowedSourceBuild_SaysThePipRunIsScrubbed()
    {
        File.WriteAllText(Path.Combine(_dir, "tollgate.yaml"), "installScripts:\n  allow: [ \"pkg:pypi/PyYAML\", \"acme-*\" ]\n");

        var result = CliRunner.Run("install", "--dry-run", "--directory", _dir, "--", "pip", "install", "-r", "requirements.txt");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("would run: pip install --only-binary :all: --no-binary pyyaml -r requirements.txt (secrets withheld)", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("installScripts.allow entry 'acme-*' cannot be given to pip", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("no sandbox for install scripts: pip builds allowed source distributions inside the install itself", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Install_CredentialOnCommandLine_WarnsAndNeverPrintsIt()
    {
        var result = CliRunner.Run("install", "--dry-run", "--directory", _dir, "--",
            "pip", "install", "--index-url", "https://ci:hunter2@pypi.example.invalid/simple/", "requests");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("the install command holds a credential", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("https://***@pypi.example.invalid/simple/", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", result.Stdout + result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Install_ProgramMissing_Exit1WithMessage()
    {
        var result = CliRunner.Run("install", "--directory", _dir, "--", Path.Combine(_dir, "no-such", "npm"), "ci");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("could not start", result.Stderr, StringComparison.Ordinal);
    }
}
