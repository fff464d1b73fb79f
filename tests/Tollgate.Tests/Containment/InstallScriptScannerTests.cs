using Tollgate.Containment;
using Tollgate.Inputs;

namespace Tollgate.Tests.Containment;

/// <summary>
/// Hand-made node_modules layouts for the cases the real npm run in <see cref="NpmInstallContainmentTests"/> does not
/// produce: nesting, scopes, pnpm's store with its links, Yarn 2+'s unplugged folder, binding.gyp, broken manifests.
/// </summary>
public sealed class InstallScriptScannerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tollgate-scan-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Scan_NpmTree_FindsNestedScopedAndImpliedGypScripts()
    {
        Package("node_modules/esbuild", """{ "name": "esbuild", "version": "0.24.0", "scripts": { "postinstall": "node install.js", "test": "x" } }""");
        Package("node_modules/left-pad", """{ "name": "left-pad", "version": "1.3.0", "scripts": { "test": "x" } }""");
        Package("node_modules/left-pad/node_modules/evil", """{ "name": "evil", "version": "0.0.1", "scripts": { "preinstall": "curl x", "install": "y" } }""");
        Package("node_modules/@acme/native", """{ "name": "@acme/native", "version": "2.0.0" }""");
        File.WriteAllText(Path.Combine(_dir, "node_modules/@acme/native/binding.gyp"), "{}");
        Package("node_modules/.bin/ignored", """{ "name": "ignored", "version": "1.0.0", "scripts": { "install": "x" } }""");

        var found = InstallScriptScanner.Scan(_dir, new DiagnosticBag());

        Assert.Equal(
            [
                "@acme/native@2.0.0 node_modules/@acme/native [install: node-gyp rebuild (binding.gyp)]",
                "esbuild@0.24.0 node_modules/esbuild [postinstall: node install.js]",
                "evil@0.0.1 node_modules/left-pad/node_modules/evil [preinstall: curl x, install: y]",
            ],
            found.Select(Describe));
    }

    [Fact]
    public void Scan_PnpmStore_ReadsRealFoldersOnceAndSkipsLinks()
    {
        Package("node_modules/.pnpm/esbuild@0.24.0/node_modules/esbuild", """{ "name": "esbuild", "version": "0.24.0", "scripts": { "postinstall": "node install.js" } }""");
        Package("node_modules/.pnpm/@scope+tool@1.0.0/node_modules/@scope/tool", """{ "name": "@scope/tool", "version": "1.0.0", "scripts": { "install": "node i.js" } }""");
        Directory.CreateSymbolicLink(Path.Combine(_dir, "node_modules/esbuild"), Path.Combine(_dir, "node_modules/.pnpm/esbuild@0.24.0/node_modules/esbuild"));
        Directory.CreateSymbolicLink(Path.Combine(_dir, "node_modules/.pnpm/@scope+tool@1.0.0/node_modules/esbuild"), Path.Combine(_dir, "node_modules/.pnpm/esbuild@0.24.0/node_modules/esbuild"));

        var found = InstallScriptScanner.Scan(_dir, new DiagnosticBag());

        Assert.Equal(
            [
                "@scope/tool@1.0.0 node_modules/.pnpm/@scope+tool@1.0.0/node_modules/@scope/tool [install: node i.js]",
                "esbuild@0.24.0 node_modules/.pnpm/esbuild@0.24.0/node_modules/esbuild [postinstall: node install.js]",
            ],
            found.Select(Describe));
    }

    [Fact]
    public void Scan_DeclaredNameDiffers_FolderNameDecides()
    {
        // An npm alias ("fast": "npm:esbuild@0.24.0"), or a package claiming to be one the allow list trusts.
        Package("node_modules/evil", """{ "name": "esbuild", "version": "0.24.0", "scripts": { "postinstall": "node steal.js" } }""");
        Package("node_modules/@acme/tool", """{ "name": "@acme/tool", "version": "1.0.0", "scripts": { "install": "x" } }""");

        var found = InstallScriptScanner.Scan(_dir, new DiagnosticBag());

        Assert.Equal(["@acme/tool:", "evil:esbuild"], found.Select(p => $"{p.Name}:{p.DeclaredName}"));
    }

    [Fact]
    public void Scan_YarnUnplugged_FindsScripts()
    {
        Package(".yarn/unplugged/esbuild-npm-0.24.0-abc/node_modules/esbuild", """{ "name": "esbuild", "version": "0.24.0", "scripts": { "postinstall": "node install.js" } }""");

        var found = InstallScriptScanner.Scan(_dir, new DiagnosticBag());

        Assert.Equal("esbuild@0.24.0", Assert.Single(found).Name + "@" + found[0].Version);
    }

    [Fact]
    public void Scan_BrokenManifest_WarnsAndReadsTheOthers()
    {
        Package("node_modules/broken", "{ \"name\": ");
        Package("node_modules/array", "[]");
        Package("node_modules/ok", """{ "name": "ok", "version": "1.0.0", "scripts": { "install": "x" } }""");
        var diagnostics = new DiagnosticBag();

        var found = InstallScriptScanner.Scan(_dir, diagnostics);

        Assert.Equal("ok", Assert.Single(found).Name);
        Assert.Equal([Graph.DiagnosticIds.InvalidJson, Graph.DiagnosticIds.UnexpectedShape], diagnostics.Items.Select(d => d.Id).Order());
    }

    [Fact]
    public void Scan_NoNodeModules_FindsNothing()
    {
        Assert.Empty(InstallScriptScanner.Scan(_dir, new DiagnosticBag()));
    }

    private void Package(string relative, string manifest)
    {
        var dir = Path.Combine(_dir, relative);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "package.json"), manifest);
    }

    private static string Describe(InstalledPackage p) => $"{p.Name}@{p.Version} {p.Directory} [{string.Join(", ", p.Scripts)}]";
}
