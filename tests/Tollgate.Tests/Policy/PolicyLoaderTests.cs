using Tollgate.Graph;
using Tollgate.Policy;

namespace Tollgate.Tests.Policy;

public sealed class PolicyLoaderTests
{
    private static PolicyLoadResult LoadTestFile(string name) => PolicyLoader.LoadFile(TestData.Path("policy", name));

    private static PolicyLoadResult Parse(string yaml, IReadOnlyCollection<string>? knownRules = null) =>
        PolicyLoader.Parse(yaml, "tollgate.yaml", knownRules);

    private static Diagnostic Single(PolicyLoadResult result)
    {
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Null(result.Policy);
        return diagnostic;
    }

    [Fact]
    public void LoadFile_DesignExample_ReadsEveryValue()
    {
        var result = LoadTestFile("design-example.yaml");

        Assert.Empty(result.Diagnostics);
        var policy = Assert.IsType<TollgatePolicy>(result.Policy);
        Assert.Equal(Severity.High, policy.FailOn);
        Assert.Equal(MaliciousAction.Fail, policy.Malicious);
        Assert.Equal(RuleLevel.Warn, policy.Rules["TG1001"]);
        Assert.Equal(new Uri("https://artifacts.example.com/npm/"), Assert.Single(policy.Registries.Approved));
        Assert.Equal(["@acme/*", "acme-*"], policy.Private.Select(p => p.Text));
        Assert.Equal(["esbuild", "sharp@^0.33.0"], policy.InstallScripts.Allow.Select(p => p.Text));
        Assert.Equal(TimeSpan.FromHours(72), policy.MinimumReleaseAge);
        Assert.Equal(["event-stream@3.3.6", "pkg:npm/left-pad"], policy.Deny.Select(p => p.Text));
        Assert.Empty(policy.Allow);
        Assert.Equal(TollgatePolicy.DefaultMaxDatabaseAge, policy.MaxDatabaseAge);
        var ignore = Assert.Single(policy.Ignore);
        Assert.Equal("GHSA-xxxx-xxxx-xxxx", ignore.Id);
        Assert.Equal("lodash", ignore.Package!.Name);
        Assert.Equal("<4.17.21", ignore.Package.Version);
        Assert.Equal("not reachable: we never call template()", ignore.Reason);
        Assert.Equal("team-mcp", ignore.Owner);
        Assert.Equal(new DateOnly(2026, 12, 31), ignore.Expires);
        Assert.Equal(14, ignore.Location!.Line);
        Assert.EndsWith("design-example.yaml", policy.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadFile_EveryKey_ReadsNonDefaultValues()
    {
        var result = LoadTestFile("full.yaml");

        Assert.Empty(result.Diagnostics);
        var policy = result.Policy!;
        Assert.Equal(Severity.Medium, policy.FailOn);
        Assert.Equal(MaliciousAction.Warn, policy.Malicious);
        Assert.Equal(RuleLevel.Off, policy.Rules["TG1001"]);
        Assert.Equal(RuleLevel.Fail, policy.Rules["TG1002"]);
        Assert.Equal(RuleLevel.Info, policy.Rules["TG1003"]);
        Assert.Equal(2, policy.Registries.Approved.Length);
        Assert.Equal(Ecosystem.PyPI, policy.Private[2].Ecosystem);
        Assert.Equal("[13.0.1,)", policy.InstallScripts.Allow[2].Version);
        Assert.Equal(InstallScriptNetwork.Allow, policy.InstallScripts.Network);
        Assert.Equal(TimeSpan.FromDays(3), policy.MinimumReleaseAge);
        Assert.Equal(["@acme/*", "requests==2.32.3"], policy.MinimumReleaseAgeExclude.Select(p => p.Text));
        Assert.Equal(Ecosystem.PyPI, policy.Deny[2].Ecosystem);
        Assert.Equal(">=2,<2.20", policy.Deny[2].Version);
        Assert.Equal(Ecosystem.NuGet, Assert.Single(policy.Allow).Ecosystem);
        Assert.Equal(TimeSpan.FromHours(12), policy.MaxDatabaseAge);
        Assert.Equal(2, policy.Ignore.Length);
        Assert.Null(policy.Ignore[1].Owner);
        Assert.Null(policy.Ignore[1].Package);
    }

    [Fact]
    public void LoadFile_CommentsOnly_GivesDefaults()
    {
        var result = LoadTestFile("empty.yaml");

        Assert.Empty(result.Diagnostics);
        Assert.Equal(TollgatePolicy.Default with { Source = result.Path }, result.Policy);
    }

    [Fact]
    public void Default_NoFile_HasDocumentedValues()
    {
        var policy = TollgatePolicy.Default;

        Assert.Equal(Severity.High, policy.FailOn);
        Assert.Equal(MaliciousAction.Fail, policy.Malicious);
        Assert.Equal(TimeSpan.FromHours(72), policy.MinimumReleaseAge);
        Assert.Equal(TimeSpan.FromHours(24), policy.MaxDatabaseAge);
        Assert.Empty(policy.Rules);
        Assert.Null(policy.Source);
    }

    [Fact]
    public void LoadFile_ManyMistakes_ReportsEveryOneWithLocation()
    {
        var result = LoadTestFile("many-errors.yaml");

        Assert.Null(result.Policy);
        Assert.All(result.Diagnostics, d =>
        {
            Assert.Equal(DiagnosticIds.PolicyInvalid, d.Id);
            Assert.Equal(DiagnosticSeverity.Error, d.Severity);
            Assert.EndsWith("many-errors.yaml", d.Location!.File, StringComparison.Ordinal);
            Assert.True(d.Location.Line > 0 && d.Location.Column > 0);
        });
        var at = result.Diagnostics.Select(d => (d.Location!.Line, d.Location.Column)).ToList();
        Assert.Equal(
        [
            (1, 1),    // failon
            (2, 12),   // malicious: block
            (4, 11),   // TG1001: loud
            (5, 3),    // TG0001
            (6, 3),    // X9
            (7, 20),   // 72x
            (8, 17),   // 24 without unit
            (9, 10),   // private is not a list
            (10, 9),   // pkg:maven
            (10, 38),  // "bad name"
            (10, 50),  // "@acme"
            (12, 3),   // alow
            (14, 5),   // ignore entry without reason
            (15, 14),  // lodash@
            (16, 14),  // 2026-13-01
            (17, 5),   // ignore entry without id
            (19, 5),   // not a mapping
            (21, 15),  // ftp URL
            (21, 44),  // URL with credentials
        ], at);
    }

    [Theory]
    [InlineData("failon: high", "unknown key 'failon'", "did you mean 'failOn'?")]
    [InlineData("ignores: []", "unknown key 'ignores'", "did you mean 'ignore'?")]
    [InlineData("minimumReleaseAges: 3d", "unknown key 'minimumReleaseAges'", "did you mean 'minimumReleaseAge'?")]
    [InlineData("alow: []", "unknown key 'alow'", "did you mean 'allow'?")]
    [InlineData("installScripts: { allowed: [esbuild] }", "unknown key 'allowed' in 'installScripts'", "did you mean 'allow'?")]
    [InlineData("installScripts: { network: alow }", "'installScripts.network' is 'alow'; expected a choice: deny, allow", "did you mean 'allow'?")]
    [InlineData("installScripts: { netwrok: deny }", "unknown key 'netwrok' in 'installScripts'", "did you mean 'network'?")]
    [InlineData("ignore: [ { id: X, reasn: y, reason: y, expires: 2026-01-01 } ]", "unknown key 'reasn'", "did you mean 'reason'?")]
    [InlineData("failOn: hihg", "'failOn' is 'hihg'; expected a severity: none, low, medium, high, critical", "did you mean 'high'?")]
    [InlineData("malicious: fial", "'malicious' is 'fial'; expected an action: fail, warn", "did you mean 'fail'?")]
    [InlineData("rules: { TG1001: wran }", "'TG1001' is 'wran'; expected a level: off, info, warn, fail", "did you mean 'warn'?")]
    public void Parse_NearMiss_SuggestsTheKnownWord(string yaml, string message, string hint)
    {
        var diagnostic = Single(Parse(yaml));

        Assert.Equal(DiagnosticIds.PolicyInvalid, diagnostic.Id);
        Assert.Contains(message, diagnostic.Message, StringComparison.Ordinal);
        Assert.Equal(hint, diagnostic.Hint);
    }

    [Theory]
    [InlineData("installScripts: { allow: [esbuild] }", InstallScriptNetwork.Deny)]
    [InlineData("installScripts: { network: deny }", InstallScriptNetwork.Deny)]
    [InlineData("installScripts: { network: allow }", InstallScriptNetwork.Allow)]
    [InlineData("installScripts: { network: Allow }", InstallScriptNetwork.Allow)]
    public void Parse_InstallScriptsNetwork_DeniedUnlessAllowed(string yaml, InstallScriptNetwork network)
    {
        var result = Parse(yaml);

        Assert.Empty(result.Diagnostics);
        Assert.Equal(network, result.Policy!.InstallScripts.Network);
    }

    [Fact]
    public void Parse_FarFromAnyKey_ListsKnownKeys()
    {
        var diagnostic = Single(Parse("colour: blue"));

        Assert.Equal("unknown key 'colour' in the policy", diagnostic.Message);
        Assert.StartsWith("known keys: failOn, malicious, rules", diagnostic.Hint, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("failOn: [high]", 1, 9, "expected a severity")]
    [InlineData("rules: [TG1001]", 1, 8, "expected a mapping of rule ids to levels")]
    [InlineData("registries: [ \"https://a.invalid/\" ]", 1, 13, "expected a mapping with 'approved'")]
    [InlineData("installScripts: [ esbuild ]", 1, 17, "expected a mapping with 'allow'")]
    [InlineData("deny: left-pad", 1, 7, "'deny' is 'left-pad'; expected a list")]
    [InlineData("ignore: { id: X }", 1, 9, "'ignore' is a mapping; expected a list")]
    [InlineData("deny: [ [ a ] ]", 1, 9, "found a list; expected a package pattern")]
    [InlineData("ignore: [ { id: X, reason: [a], expires: 2026-01-01 } ]", 1, 28, "expected the reason")]
    [InlineData("- failOn: high", 1, 1, "the policy is a list; expected a mapping")]
    [InlineData("failOn: high\n---\nfailOn: low", 3, 1, "more than one YAML document")]
    [InlineData("rules: { TG1001: warn, tg1001: fail }", 1, 24, "rule TG1001 is set twice")]
    public void Parse_WrongType_ReportsWhereAndWhatWasExpected(string yaml, int line, int column, string message)
    {
        var diagnostic = Single(Parse(yaml));

        Assert.Equal(DiagnosticIds.PolicyInvalid, diagnostic.Id);
        Assert.Contains(message, diagnostic.Message, StringComparison.Ordinal);
        Assert.Equal(new SourceLocation("tollgate.yaml", line, column), diagnostic.Location);
    }

    [Theory]
    [InlineData("minimumReleaseAge: 72x", "unknown unit 'x'")]
    [InlineData("minimumReleaseAge: 72", "has no unit")]
    [InlineData("minimumReleaseAge: -3d", "is not a number followed by a unit")]
    [InlineData("maxDatabaseAge: P1M", "years or months")]
    [InlineData("maxDatabaseAge: P", "is not an ISO 8601 duration")]
    [InlineData("maxDatabaseAge: ", "expected a duration")]
    public void Parse_BadDuration_ReportsIt(string yaml, string message)
    {
        var diagnostic = Single(Parse(yaml));

        Assert.Contains(message, diagnostic.Message, StringComparison.Ordinal);
        Assert.NotNull(diagnostic.Hint);
    }

    [Theory]
    [InlineData("2026-13-01")]
    [InlineData("31-12-2026")]
    [InlineData("2026-12-31T00:00:00Z")]
    [InlineData("next year")]
    public void Parse_BadExpiryDate_ReportsIt(string date)
    {
        var diagnostic = Single(Parse($"ignore:\n  - id: GHSA-1\n    reason: r\n    expires: {date}\n"));

        Assert.Equal($"'expires' is '{date}'; expected a date written YYYY-MM-DD", diagnostic.Message);
        Assert.Equal(new SourceLocation("tollgate.yaml", 4, 14), diagnostic.Location);
    }

    [Fact]
    public void Parse_IgnoreWithoutReasonAndExpiry_ReportsBoth()
    {
        var result = Parse("ignore:\n  - id: GHSA-1\n    owner: me\n");

        Assert.Null(result.Policy);
        Assert.Equal(
            ["the 'ignore' entry for GHSA-1 has no 'reason'", "the 'ignore' entry for GHSA-1 has no 'expires'"],
            result.Diagnostics.Select(d => d.Message));
        Assert.All(result.Diagnostics, d => Assert.Equal(new SourceLocation("tollgate.yaml", 2, 5), d.Location));
    }

    [Theory]
    [InlineData("TG001")]
    [InlineData("TG6001")]
    [InlineData("TG10011")]
    [InlineData("GHSA-1234")]
    public void Parse_RuleIdNotTG1xxx_ReportsIt(string id)
    {
        var diagnostic = Single(Parse($"rules:\n  {id}: warn\n"));

        Assert.Equal($"'{id}' is not a rule id; expected TG1 to TG5 followed by three digits, such as TG1001", diagnostic.Message);
        Assert.Equal(new SourceLocation("tollgate.yaml", 2, 3), diagnostic.Location);
    }

    [Fact]
    public void Parse_IgnoreIdLooksLikeBadRuleId_ReportsIt()
    {
        var diagnostic = Single(Parse("ignore: [ { id: TG12, reason: r, expires: 2026-01-01 } ]"));

        Assert.Contains("'TG12' is not a rule id", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownRuleWithKnownList_WarnsWithSuggestionAndKeepsPolicy()
    {
        var result = Parse("rules:\n  TG1210: off\n", knownRules: ["TG1001", "TG1011", "TG1200"]);

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticSeverity.Warning, diagnostic.Severity);
        Assert.Equal("did you mean 'TG1200'?", diagnostic.Hint);
        Assert.NotNull(result.Policy);
    }

    [Theory]
    [InlineData("failOn: high\nrules:\n  TG1001: [warn\ndeny: []\n")]
    [InlineData("failOn: 'high\n")]
    [InlineData("a: b: c\n")]
    public void Parse_InvalidYaml_ReportsSyntaxErrorWithPosition(string yaml)
    {
        var diagnostic = Single(Parse(yaml));

        Assert.Equal(DiagnosticIds.PolicySyntax, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.True(diagnostic.Location!.Line > 0 && diagnostic.Location.Column > 0);
        Assert.DoesNotContain("(Line:", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadFile_TabIndentation_ReportsSyntaxErrorOnThatLine()
    {
        var diagnostic = Single(LoadTestFile("tab-indent.yaml"));

        Assert.Equal(DiagnosticIds.PolicySyntax, diagnostic.Id);
        Assert.Equal(3, diagnostic.Location!.Line);
        Assert.Equal(1, diagnostic.Location.Column);
        Assert.Contains("tabs", diagnostic.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RepeatedKey_ReportsSyntaxErrorAtTheRepeat()
    {
        var diagnostic = Single(Parse("failOn: high\nmalicious: warn\nfailOn: low\n"));

        Assert.Equal(DiagnosticIds.PolicySyntax, diagnostic.Id);
        Assert.Contains("failOn", diagnostic.Message, StringComparison.Ordinal);
        Assert.Equal(3, diagnostic.Location!.Line);
    }

    [Fact]
    public void LoadFile_UnclosedFlowList_ReportsSyntaxErrorNearIt()
    {
        var diagnostic = Single(LoadTestFile("syntax-error.yaml"));

        Assert.Equal(DiagnosticIds.PolicySyntax, diagnostic.Id);
        Assert.Equal(3, diagnostic.Location!.Line);
    }

    [Fact]
    public void LoadFile_Missing_ReportsUnreadableFile()
    {
        var result = PolicyLoader.LoadFile("/no/such/tollgate.yaml");

        Assert.Null(result.Policy);
        Assert.Equal(DiagnosticIds.FileUnreadable, Assert.Single(result.Diagnostics).Id);
    }

    [Theory]
    [InlineData("allow:", 0)]
    [InlineData("allow: ~", 0)]
    [InlineData("allow: []", 0)]
    [InlineData("rules:", 0)]
    [InlineData("installScripts:", 0)]
    public void Parse_EmptySection_MeansNothingListed(string yaml, int count)
    {
        var result = Parse(yaml);

        Assert.Empty(result.Diagnostics);
        Assert.Equal(count, result.Policy!.Allow.Length + result.Policy.Rules.Count + result.Policy.InstallScripts.Allow.Length);
    }

    [Fact]
    public void Parse_ZeroDurations_TurnChecksOff()
    {
        var policy = Parse("minimumReleaseAge: 0\nmaxDatabaseAge: 0\n").Policy!;

        Assert.Equal(TimeSpan.Zero, policy.MinimumReleaseAge);
        Assert.Equal(TimeSpan.Zero, policy.MaxDatabaseAge);
    }

    [Fact]
    public void Parse_AnchorsAndAliases_AreResolved()
    {
        var policy = Parse("private: &ours [ \"@acme/*\" ]\nminimumReleaseAgeExclude: *ours\n").Policy!;

        Assert.Equal("@acme/*", Assert.Single(policy.MinimumReleaseAgeExclude).Text);
    }

    [Fact]
    public void Parse_DeeplyNestedFlow_RefusedWithoutCrashing()
    {
        var yaml = "deny: " + new string('[', 100_000) + new string(']', 100_000) + "\n";

        var diagnostic = Single(Parse(yaml));

        Assert.Equal(DiagnosticIds.TooDeep, diagnostic.Id);
        Assert.Equal(new SourceLocation("tollgate.yaml", 1, 7 + PolicyLoader.MaxFlowDepth), diagnostic.Location);
    }

    [Theory]
    // "- - - a" and indentation nest without a bracket; a stray quote hid the brackets after it from the text check.
    [InlineData("ignore:\n  ", "- ", 2)]
    [InlineData("ignore:\n  ", "? ", 2)]
    [InlineData("deny: x '\nallow: ", "[", 2)]
    public async Task Parse_DeepNestingTheTextCheckMisses_RefusedWithoutCrashing(string head, string open, int line)
    {
        var yaml = head + string.Concat(Enumerable.Repeat(open, 100_000)) + "a\n";

        // On a thread pool thread, whose stack is smaller than the main thread's: this overflowed it.
        var diagnostic = Single(await Task.Run(() => Parse(yaml)));

        Assert.Equal(DiagnosticIds.TooDeep, diagnostic.Id);
        Assert.Equal(line, diagnostic.Location!.Line);
    }

    [Theory]
    [InlineData("k: &k [*k]\ndeny: *k\n", 1, 8)]
    [InlineData("a: &a [x, x]\nb: &b [*a, *a]\nignore:\n  ? *b\n  : 1\n", 4, 5)]
    public void Parse_AliasInsideItselfOrInKey_RefusedWhereWritten(string yaml, int line, int column)
    {
        // A key holding itself overflowed the stack when hashed; a key of aliases of aliases takes exponential time.
        var diagnostic = Single(Parse(yaml));

        Assert.Equal(DiagnosticIds.PolicyInvalid, diagnostic.Id);
        Assert.Equal(new SourceLocation("tollgate.yaml", line, column), diagnostic.Location);
    }

    [Fact]
    public void Parse_BracketsInsideQuotesAndComments_NotCountedAsNesting()
    {
        var yaml = "# [[[[ " + new string('[', 200) + "\nignore: [ { id: GHSA-1, reason: \"" + new string('{', 200) + "\", expires: 2026-01-01 } ]\n";

        var result = Parse(yaml);

        Assert.Empty(result.Diagnostics);
    }

    [Fact]
    public void Parse_HugeText_RefusedAsTooLarge()
    {
        var diagnostic = Single(Parse("# " + new string('x', PolicyLoader.MaxChars)));

        Assert.Equal(DiagnosticIds.FileTooLarge, diagnostic.Id);
    }
}
