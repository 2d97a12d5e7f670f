// The whole frame: header, notice, panes (or tabs on small terminals, or an overlay), footer. Sized to the terminal.
import { Box } from 'ink';
import { CertsView } from './certs-view.js';
import { CsrTable } from './csr-table.js';
import { DialogView } from './dialog-view.js';
import { Footer } from './footer.js';
import { Header } from './header.js';
import { HealthPane } from './health-pane.js';
import { HelpView } from './help-view.js';
import { InitPodsPane } from './init-pods-pane.js';
import { InspectView } from './inspect-view.js';
import { CHROME_ROWS, initColumns, screenLayout } from './layout.js';
import type { OverlayVm, ScreenVm } from './models.js';
import { Notice } from './notice.js';
import { PickerView } from './picker-view.js';
import { Tabs } from './tabs.js';
import { YamlView } from './yaml-view.js';

export function MainScreen({ screen }: { screen: ScreenVm }) {
  const layout = screenLayout(screen.columns, screen.rows, screen.pane);
  const width = layout.columns;
  const bodyHeight = layout.rows - CHROME_ROWS;
  return (
    // No overflow="hidden" here: every part is sized to the terminal, and a clip on the root would make Ink re-slice
    // every line of every frame (slice-ansi). Overlays and the one-line bars clip themselves.
    <Box flexDirection="column" width={width} height={layout.rows}>
      <Header header={screen.header} width={width} />
      <Notice notice={screen.notice} width={width} />
      <Box flexDirection="column" width={width} height={bodyHeight}>
        {screen.overlay ? (
          <Overlay overlay={screen.overlay} width={width} height={bodyHeight} />
        ) : (
          <Panes screen={screen} />
        )}
      </Box>
      <Footer status={screen.footer.status} input={screen.footer.input} keys={screen.footer.keys} width={width} />
    </Box>
  );
}

function Panes({ screen }: { screen: ScreenVm }) {
  const layout = screenLayout(screen.columns, screen.rows, screen.pane);
  const width = layout.columns;
  const csrTable = (
    <CsrTable
      list={screen.csrs}
      scope={screen.csrScope}
      width={width}
      height={layout.csrHeight}
      focused={screen.pane === 'csrs'}
      ctxWidth={screen.ctxWidth}
    />
  );
  if (layout.tabs) {
    return (
      <Box flexDirection="column" width={width}>
        <Tabs active={screen.pane} labels={screen.tabLabels} width={width} />
        {screen.pane === 'csrs' ? csrTable : null}
        {screen.pane === 'init' ? (
          <InitPodsPane
            list={screen.initPods}
            width={width}
            height={layout.bottomHeight}
            focused
            ctxWidth={screen.ctxWidth}
          />
        ) : null}
        {screen.pane === 'health' ? (
          <HealthPane
            sections={screen.health}
            width={width}
            height={layout.bottomHeight}
            focused
            offset={screen.healthOffset}
          />
        ) : null}
      </Box>
    );
  }
  const initWidth = initColumns(width);
  return (
    <Box flexDirection="column" width={width}>
      {csrTable}
      <Box width={width} height={layout.bottomHeight}>
        <InitPodsPane
          list={screen.initPods}
          width={initWidth}
          height={layout.bottomHeight}
          focused={screen.pane === 'init'}
          ctxWidth={screen.ctxWidth}
        />
        <HealthPane
          sections={screen.health}
          width={width - initWidth}
          height={layout.bottomHeight}
          focused={screen.pane === 'health'}
          offset={screen.healthOffset}
        />
      </Box>
    </Box>
  );
}

function Overlay({ overlay, width, height }: { overlay: OverlayVm; width: number; height: number }) {
  switch (overlay.kind) {
    case 'certs':
      return <CertsView certs={overlay.certs} width={width} height={height} />;
    case 'inspect':
      return <InspectView inspect={overlay.inspect} width={width} height={height} offset={overlay.offset} />;
    case 'dialog':
      return <DialogView dialog={overlay.dialog} width={width} height={height} />;
    case 'help':
      return (
        <HelpView
          groups={overlay.groups}
          places={overlay.places}
          width={width}
          height={height}
          offset={overlay.offset}
        />
      );
    case 'yaml':
      return (
        <YamlView title={overlay.title} lines={overlay.lines} width={width} height={height} offset={overlay.offset} />
      );
    case 'picker':
      return (
        <PickerView title={overlay.title} items={overlay.items} index={overlay.index} width={width} height={height} />
      );
  }
}
